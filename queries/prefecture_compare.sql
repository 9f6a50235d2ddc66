-- prefecture_compare: the municipalities of a prefecture side by side on per-capita measures:
-- places per 1,000 people 65+, pantry sites per 10,000 people 65+, forum attendance per 1,000
-- people in the period; each with its rank (1 = highest) and its 事業グループ (null when none).
-- params: $prefecture (text), $month (text 'YYYY-MM', optional: null = the latest month),
--         $from_month, $to_month (text 'YYYY-MM', optional: the period for events; null = from
--         the first / to the latest month on record)
with joined as (
    select
        municipality,
        project_group,
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
    -- the counts are the database's municipality_counts (tsunagu/query/database.py), as in prefecture_groups
    from municipality_counts($prefecture::varchar, $month::varchar, $from_month::varchar, $to_month::varchar)
),

final as (
    select
        *,
        rank() over (order by active_per_1000_65plus desc) as rank_places,
        rank() over (order by pantry_per_10000_65plus desc) as rank_pantry,
        rank() over (order by attendance_per_1000 desc) as rank_attendance,
    from joined
)

select * from final
order by rank_places, municipality
