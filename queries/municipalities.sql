-- municipalities: every municipality the areas table knows, with its people and 高齢化率.
-- params: $prefecture (text, optional: null = every prefecture)
with final as (
    select
        prefecture,
        municipality,
        population,
        population_65plus,
        households,
        round(100.0 * population_65plus / nullif(population, 0), 1) as aging_rate_pct,
        n_districts,
        n_school_districts,
    from municipalities
    where $prefecture::varchar is null or prefecture = $prefecture
)

select * from final
order by prefecture, municipality
