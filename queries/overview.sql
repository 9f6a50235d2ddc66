-- overview: the headline figures of one month beside the month before and the same month a
-- year earlier: active, subsidised and paused places, pantry sites, households served,
-- consultations, referrals, forum events and attendance. A figure is null where that
-- dataset has no upload for the month (not zero: nothing is known).
-- params: $municipality (text), $prefecture (text, optional), $districts (list, optional),
--         $school_district (text, optional; events have none and count by district),
--         $month (text 'YYYY-MM', optional: null = the latest month of places)
with target as (
    select coalesce($month::varchar, (select max(month) from uploads where dataset = 'places')) as month
),

periods as (
    select 'current' as period, 1 as period_order, month from target
    union all
    select 'previous', 2, strftime(strptime(month || '-01', '%Y-%m-%d') - interval 1 month, '%Y-%m')
    from target
    union all
    select 'year_ago', 3, strftime(strptime(month || '-01', '%Y-%m-%d') - interval 1 year, '%Y-%m')
    from target
),

place_figures as (
    select
        pe.period,
        count(p.place_id) filter (where p.status = '活動中') as n_active_places,
        count(p.place_id) filter (where p.status = '活動中' and p.subsidized) as n_subsidized_places,
        count(p.place_id) filter (where p.status = '休止中') as n_paused_places,
    from periods as pe
    left join places as p
        on p.month = pe.month
        and area_match(p.prefecture, p.municipality, p.district,
                       p.school_district,
                       $prefecture::varchar, $municipality::varchar, $districts::varchar[],
                       $school_district::varchar)
    group by pe.period
),

pantry_figures as (
    select
        pe.period,
        count(s.pantry_id) as n_pantry_sites,
        sum(s.households_served) as households_served,
        sum(s.consultations) as consultations,
        sum(s.referrals) as referrals,
    from periods as pe
    left join pantry as s
        on s.month = pe.month
        and area_match(s.prefecture, s.municipality, s.district,
                       s.school_district,
                       $prefecture::varchar, $municipality::varchar, $districts::varchar[],
                       $school_district::varchar)
    group by pe.period
),

forum_figures as (
    select
        pe.period,
        count(f.event_id) as n_events,
        sum(f.attendees_onsite + f.attendees_online) as attendees_total,
    from periods as pe
    left join forums as f
        on f.month = pe.month
        and area_match(f.prefecture, f.municipality, f.district,
                       null,
                       $prefecture::varchar, $municipality::varchar, $districts::varchar[],
                       null)
    group by pe.period
),

uploaded as (
    select
        pe.period,
        pe.month in (select month from uploads where dataset = 'places') as has_places,
        pe.month in (select month from uploads where dataset = 'pantry') as has_pantry,
        pe.month in (select month from uploads where dataset = 'forums') as has_forums,
    from periods as pe
),

final as (
    select
        pe.period,
        pe.month,
        case when u.has_places then pl.n_active_places end as n_active_places,
        case when u.has_places then pl.n_subsidized_places end as n_subsidized_places,
        case when u.has_places then pl.n_paused_places end as n_paused_places,
        case when u.has_pantry then pa.n_pantry_sites end as n_pantry_sites,
        case when u.has_pantry then coalesce(pa.households_served, 0) end as households_served,
        case when u.has_pantry then coalesce(pa.consultations, 0) end as consultations,
        case when u.has_pantry then coalesce(pa.referrals, 0) end as referrals,
        case when u.has_forums then fo.n_events end as n_events,
        case when u.has_forums then coalesce(fo.attendees_total, 0) end as attendees_total,
    from periods as pe
    inner join uploaded as u using (period)
    inner join place_figures as pl using (period)
    inner join pantry_figures as pa using (period)
    inner join forum_figures as fo using (period)
    order by pe.period_order
)

select * from final
