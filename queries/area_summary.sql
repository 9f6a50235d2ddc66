-- area_summary: one municipality's people, households and 高齢化率, with how many districts
-- and school districts it has and the range of 高齢化率 across its school districts.
-- params: $municipality (text), $prefecture (text, optional: needed only for names that
--         repeat across prefectures)
with schools as (
    select
        prefecture,
        municipality,
        100.0 * population_65plus / nullif(population, 0) as aging_rate_pct,
    from areas
    where municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
),

ranges as (
    select
        prefecture,
        municipality,
        round(min(aging_rate_pct), 1) as min_school_aging_rate_pct,
        round(max(aging_rate_pct), 1) as max_school_aging_rate_pct,
    from schools
    group by prefecture, municipality
),

final as (
    select
        m.prefecture,
        m.municipality,
        m.population,
        m.households,
        m.population_65plus,
        round(100.0 * m.population_65plus / nullif(m.population, 0), 1) as aging_rate_pct,
        m.n_districts,
        m.n_school_districts,
        r.min_school_aging_rate_pct,
        r.max_school_aging_rate_pct,
    from municipalities as m
    inner join ranges as r using (prefecture, municipality)
)

select * from final
