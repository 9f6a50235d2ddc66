-- municipalities: every municipality the areas table knows, with its people and 高齢化率, its
-- 団体コード (6 digits; null when areas gives none) and its 事業グループ (null when none).
-- params: $prefecture (text, optional: null = every prefecture)
with final as (
    select
        m.prefecture,
        m.municipality,
        m.population,
        m.population_65plus,
        m.households,
        round(100.0 * m.population_65plus / nullif(m.population, 0), 1) as aging_rate_pct,
        m.n_districts,
        m.n_school_districts,
        m.municipality_code,
        m.project_group,
    from municipalities as m
    where $prefecture::varchar is null or m.prefecture = $prefecture
)

select * from final
order by prefecture, municipality
