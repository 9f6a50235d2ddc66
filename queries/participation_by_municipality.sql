-- participation_by_municipality: the municipalities of a prefecture ranked by 参加率 in one
-- month's snapshot: people aged 65+ taking part in 活動中 places ÷ people aged 65+, with how
-- many 活動中 places give that count (n_reporting of n_active; the rate in %, unrounded:
-- pages show one decimal). A municipality where no place gives it, or that has no places
-- list that month, has no rate and no rank (listed last).
-- params: $prefecture (text), $month (text 'YYYY-MM', optional: null = the latest month)
with target as (
    select coalesce($month::varchar, (select max(month) from uploads where dataset = 'places')) as month
),

uploaded as (
    select distinct municipality
    from uploads
    where dataset = 'places'
      and prefecture = $prefecture
      and month = (select month from target)
),

snapshot as (
    select
        municipality,
        count(*) as n_active,
        count(participants_65plus) as n_reporting,
        sum(participants_65plus)::bigint as participants_65plus,
    from places
    where month = (select month from target)
      and prefecture = $prefecture
      and status = '活動中'
    group by all
),

joined as (
    select
        m.municipality,
        m.population_65plus::bigint as population_65plus,
        u.municipality is not null as has_list,
        coalesce(s.n_active, 0) as n_active,
        coalesce(s.n_reporting, 0) as n_reporting,
        s.participants_65plus,
        case
            when u.municipality is null then null
            when coalesce(s.n_active, 0) = 0 then 0.0
            else 100.0 * s.participants_65plus / nullif(m.population_65plus, 0)
        end as participation_rate_pct,
    from municipalities as m
    left join uploaded as u using (municipality)
    left join snapshot as s using (municipality)
    where m.prefecture = $prefecture
),

final as (
    select
        municipality,
        population_65plus,
        has_list,
        n_active,
        n_reporting,
        participants_65plus,
        participation_rate_pct,
        case
            when participation_rate_pct is not null
                then rank() over (order by participation_rate_pct desc nulls last)
        end as rank_participation,
    from joined
)

select * from final
order by rank_participation nulls last, municipality
