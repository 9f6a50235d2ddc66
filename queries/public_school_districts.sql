-- public_school_districts: a municipality's districts and school districts as the public guide
-- offers them to search by, in the order areas lists them, with each school district's shape
-- for the guide's map (its latest boundaries upload, simplified for display; null without
-- one) and a point inside it, where the guide shows the places held in private homes. Names
-- and shapes only: no population or count.
-- params: $municipality (text), $prefecture (text)
with latest as (
    select max(month) as month
    from uploads
    where dataset = 'boundaries' and municipality = $municipality and prefecture = $prefecture
),

shapes as (
    select b.district, b.school_district, b.geometry_display, b.label_lon, b.label_lat
    from boundaries as b
    inner join latest as l on b.month = l.month
    where b.municipality = $municipality and b.prefecture = $prefecture
),

final as (
    select
        a.district,
        a.school_district,
        s.geometry_display as geometry,
        s.label_lon,
        s.label_lat,
    from areas as a
    left join shapes as s on a.district = s.district and a.school_district = s.school_district
    where a.municipality = $municipality and a.prefecture = $prefecture
    order by a.area_order
)

select * from final
