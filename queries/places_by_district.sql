-- places_by_district: places per district in one month's snapshot: 活動中, of which
-- 補助金対象, and 休止中.
-- params: $municipality (text), $prefecture (text, optional),
--         $month (text 'YYYY-MM', optional: null = the latest month)
with snapshot as (
    select *
    from places
    where month = coalesce($month::varchar, (select max(month) from places))
      and municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
),

counted as (
    select
        d.district,
        d.area_order,
        count(p.place_id) filter (where p.status = '活動中') as n_active,
        count(p.place_id) filter (where p.status = '活動中' and p.subsidized) as n_subsidized,
        count(p.place_id) filter (where p.status = '休止中') as n_paused,
    from districts as d
    left join snapshot as p
        on p.municipality = d.municipality
        and p.prefecture = d.prefecture
        and p.district = d.district
    where d.municipality = $municipality
      and ($prefecture::varchar is null or d.prefecture = $prefecture)
    group by d.district, d.area_order
),

final as (
    select
        district,
        n_active,
        n_subsidized,
        n_paused,
    from counted
    order by area_order
)

select * from final
