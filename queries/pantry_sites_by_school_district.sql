-- pantry_sites_by_school_district: 互近助パントリー sites per school district as of one month
-- (the rows of that month's upload), every (selected) school district of the municipality
-- listed, for the map's pantry layer. Site counts only: no consultation or referral count.
-- params: $municipality (text), $prefecture (text, optional), $districts (list, optional),
--         $month (text 'YYYY-MM', optional: null = the latest month)
with snapshot as (
    select *
    from pantry
    where month = coalesce($month::varchar, (select max(month) from uploads where dataset = 'pantry'))
),

final as (
    select
        a.district,
        a.school_district,
        count(s.pantry_id) as n_sites,
    from areas as a
    left join snapshot as s
        on s.prefecture = a.prefecture
        and s.municipality = a.municipality
        and s.district = a.district
        and s.school_district = a.school_district
    where area_match(a.prefecture, a.municipality, a.district, a.school_district,
                     $prefecture::varchar, $municipality::varchar, $districts::varchar[], null)
    group by a.district, a.school_district, a.area_order
    order by a.area_order
)

select * from final
