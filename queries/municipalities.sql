-- municipalities: every municipality the areas table knows, with its people and 高齢化率, its
-- 団体コード (6 digits; null when areas gives none) and its 事業グループ (null when none).
-- params: $prefecture (text, optional: null = every prefecture)
with areas_with_codes as (
    -- a store written before these columns existed has areas without them: by name, the
    -- union gives such a store empty columns (and adds no row)
    select * from areas
    union all by name
    select
        null::varchar as prefecture,
        null::varchar as municipality,
        null::varchar as municipality_code,
        null::varchar as project_group,
    where false
),

codes as (
    -- areas gives one code and one group per municipality (ingest fills blank rows)
    select
        prefecture,
        municipality,
        max(municipality_code) as municipality_code,
        max(project_group) as project_group,
    from areas_with_codes
    group by prefecture, municipality
),

final as (
    select
        m.prefecture,
        m.municipality,
        m.population,
        m.population_65plus,
        m.households,
        round(100.0 * m.population_65plus / nullif(m.population, 0), 1) as aging_rate_pct,
        m.n_districts,
        m.n_school_districts,
        c.municipality_code,
        c.project_group,
    from municipalities as m
    left join codes as c using (prefecture, municipality)
    where $prefecture::varchar is null or m.prefecture = $prefecture
)

select * from final
order by prefecture, municipality
