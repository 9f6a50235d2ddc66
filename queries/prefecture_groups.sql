-- prefecture_groups: the project groups of a prefecture (areas' 事業グループ) side by side, on
-- the measures of prefecture_compare summed over each group's municipalities: people, 通いの場
-- (活動中) per 1,000 people 65+, pantry sites per 10,000 people 65+, forum events and
-- attendance per 1,000 people in the period; a last row 合計 for the whole prefecture.
-- Municipalities without a group are one row of their own (project_group null).
-- params: $prefecture (text), $month (text 'YYYY-MM', optional: null = the latest month),
--         $from_month, $to_month (text 'YYYY-MM', optional: the period for events; null = from
--         the first / to the latest month on record)
with grouped as (
    select
        grouping(project_group) = 1 as is_total,
        project_group,
        count(*) as n_municipalities,
        sum(population) as population,
        sum(population_65plus) as population_65plus,
        sum(n_active) as n_active,
        sum(n_pantry_sites) as n_pantry_sites,
        sum(n_events) as n_events,
        sum(attendees_total) as attendees_total,
    -- the counts are the database's municipality_counts (tsunagu/query/database.py), as in prefecture_compare
    from municipality_counts($prefecture::varchar, $month::varchar, $from_month::varchar, $to_month::varchar)
    group by rollup (project_group)
),

final as (
    select
        case when is_total then '合計' else project_group end as project_group,
        n_municipalities,
        population,
        population_65plus,
        round(100.0 * population_65plus / nullif(population, 0), 1) as aging_rate_pct,
        n_active,
        round(1000.0 * n_active / nullif(population_65plus, 0), 2) as active_per_1000_65plus,
        n_pantry_sites,
        round(10000.0 * n_pantry_sites / nullif(population_65plus, 0), 2) as pantry_per_10000_65plus,
        n_events,
        attendees_total,
        round(1000.0 * attendees_total / nullif(population, 0), 2) as attendance_per_1000,
        is_total,
    from grouped
)

select * from final
order by is_total, project_group nulls last
