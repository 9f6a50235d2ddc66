-- pantry_sites_by_district: 互近助パントリー sites per district as of one month (the rows
-- of that month's upload), every (selected) district of the municipality listed.
-- params: $municipality (text), $prefecture (text, optional), $districts (list, optional),
--         $month (text 'YYYY-MM', optional: null = the latest month)
with snapshot as (
    select *
    from pantry
    where month = coalesce($month::varchar, (select max(month) from uploads where dataset = 'pantry'))
),

final as (
    select
        d.district,
        count(s.pantry_id) as n_sites,
    from districts as d
    left join snapshot as s
        on s.prefecture = d.prefecture
        and s.municipality = d.municipality
        and s.district = d.district
    where area_match(d.prefecture, d.municipality, d.district, null,
                     $prefecture::varchar, $municipality::varchar, $districts::varchar[], null)
    group by d.district, d.area_order
    order by d.area_order
)

select * from final
