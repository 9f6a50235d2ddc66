-- similar_municipalities: the municipalities closest to one in size (log of population) and
-- 高齢化率, each measure scaled by its spread, the chosen one first; from the same prefecture,
-- or from every prefecture (for a prefecture with no other municipality to compare with).
-- params: $prefecture (text), $municipality (text), $limit (integer, optional: 5),
--         $everywhere (boolean, optional: null = false, the same prefecture only)
with base as (
    select
        prefecture,
        municipality,
        population,
        population_65plus::double / nullif(population, 0) as aging_rate,
        ln(population) as log_population,
    from municipalities
    where coalesce($everywhere::boolean, false) or prefecture = $prefecture
),

spread as (
    select
        nullif(stddev_pop(log_population), 0) as sd_log_population,
        nullif(stddev_pop(aging_rate), 0) as sd_aging_rate,
    from base
),

chosen as (
    select * from base where prefecture = $prefecture and municipality = $municipality
),

final as (
    select
        b.prefecture,
        b.municipality,
        b.population,
        round(100.0 * b.aging_rate, 1) as aging_rate_pct,
        round(sqrt(
            power((b.log_population - c.log_population) / coalesce(s.sd_log_population, 1), 2)
            + power((b.aging_rate - c.aging_rate) / coalesce(s.sd_aging_rate, 1), 2)
        ), 2) as distance,
        b.prefecture = c.prefecture and b.municipality = c.municipality as is_chosen,
    from base as b
    cross join chosen as c
    cross join spread as s
)

select * from final
order by distance, not is_chosen, prefecture, municipality
limit coalesce($limit::integer, 5) + 1
