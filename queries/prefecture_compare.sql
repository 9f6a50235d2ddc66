-- prefecture_compare: the municipalities of a prefecture side by side on per-capita measures:
-- places per 1,000 people 65+, pantry sites per 10,000 people 65+, forum attendance per 1,000
-- people in the period; each with its rank (1 = highest) and its 事業グループ (null when none).
-- params: $prefecture (text), $month (text 'YYYY-MM', optional: null = the latest month),
--         $from_month, $to_month (text 'YYYY-MM', optional: the period for events; null = from
--         the first / to the latest month on record)
with places_now as (
    select
        prefecture,
        municipality,
        count(*) filter (where status = '活動中') as n_active,
    from places
    where month = coalesce($month::varchar, (select max(month) from uploads where dataset = 'places'))
      and prefecture = $prefecture
    group by all
),

pantry_now as (
    select
        prefecture,
        municipality,
        count(*) as n_pantry_sites,
    from pantry
    where month = coalesce($month::varchar, (select max(month) from uploads where dataset = 'pantry'))
      and prefecture = $prefecture
    group by all
),

forum_period as (
    select
        prefecture,
        municipality,
        count(*) as n_events,
        sum(attendees_onsite + attendees_online) as attendees_total,
    from forums
    where ($from_month::varchar is null or month >= $from_month)
      and ($to_month::varchar is null or month <= $to_month)
      and prefecture = $prefecture
    group by all
),

joined as (
    select
        m.municipality,
        m.project_group,
        m.population,
        m.population_65plus,
        round(100.0 * m.population_65plus / nullif(m.population, 0), 1) as aging_rate_pct,
        coalesce(p.n_active, 0) as n_active,
        round(1000.0 * coalesce(p.n_active, 0) / nullif(m.population_65plus, 0), 2)
            as active_per_1000_65plus,
        coalesce(s.n_pantry_sites, 0) as n_pantry_sites,
        round(10000.0 * coalesce(s.n_pantry_sites, 0) / nullif(m.population_65plus, 0), 2)
            as pantry_per_10000_65plus,
        coalesce(f.n_events, 0) as n_events,
        coalesce(f.attendees_total, 0) as attendees_total,
        round(1000.0 * coalesce(f.attendees_total, 0) / nullif(m.population, 0), 2)
            as attendance_per_1000,
    from municipalities as m
    left join places_now as p using (prefecture, municipality)
    left join pantry_now as s using (prefecture, municipality)
    left join forum_period as f using (prefecture, municipality)
    where m.prefecture = $prefecture
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
