-- places_by_district: places per district in one month's snapshot: 活動中, of which
-- 補助金対象, and 休止中; every (selected) district is listed, with its 65+ people.
-- params: $municipality (text), $prefecture (text, optional), $districts (list, optional),
--         $month (text 'YYYY-MM', optional: null = the latest month)
with snapshot as (
    select *
    from places
    where month = coalesce($month::varchar, (select max(month) from uploads where dataset = 'places'))
),

counted as (
    select
        d.district,
        d.area_order,
        d.population_65plus,
        count(p.place_id) filter (where p.status = '活動中') as n_active,
        count(p.place_id) filter (where p.status = '活動中' and p.subsidized) as n_subsidized,
        count(p.place_id) filter (where p.status = '休止中') as n_paused,
    from districts as d
    left join snapshot as p
        on p.prefecture = d.prefecture
        and p.municipality = d.municipality
        and p.district = d.district
    where area_match(d.prefecture, d.municipality, d.district, null,
                     $prefecture::varchar, $municipality::varchar, $districts::varchar[], null)
    group by d.district, d.area_order, d.population_65plus
),

final as (
    select
        district,
        n_active,
        n_subsidized,
        n_paused,
        round(1000.0 * n_active / nullif(population_65plus, 0), 2) as active_per_1000_65plus,
    from counted
    order by area_order
)

select * from final
