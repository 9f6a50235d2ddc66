-- school_district_boundaries: the shapes of a municipality's school districts (小学校区の境界,
-- the map's layer): its latest boundaries upload at or before the month, or its first upload
-- when none was made by then (boundaries are uploaded once and seldom change, often after the
-- monthly data began), one row per school district of that upload, in the order areas lists
-- them. geometry is WKB in WGS84 longitude/latitude (outer rings counterclockwise, as GeoJSON's
-- RFC 7946), simplified once at ingest for display (within about 2 m; the exact shape stays in
-- the stored Parquet); label_lon / label_lat is a point inside the shape for its name;
-- is_in_areas is false for a school district the municipality's current areas no longer has.
-- params: $municipality (text), $prefecture (text, optional: null = the municipality's only
--         prefecture), $month (text 'YYYY-MM', optional: null = the latest boundaries upload)
with latest as (
    select
        prefecture,
        municipality,
        coalesce(max(month) filter (where $month::varchar is null or month <= $month), min(month)) as month,
    from uploads
    where dataset = 'boundaries'
      and municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
    group by all
),

final as (
    select
        b.prefecture,
        b.municipality,
        b.district,
        b.school_district,
        b.geometry_display as geometry,
        b.label_lon,
        b.label_lat,
        b.feature_name,
        b.month as boundaries_month,
        a.school_district is not null as is_in_areas,
    from boundaries as b
    join latest as l
        on b.prefecture = l.prefecture and b.municipality = l.municipality and b.month = l.month
    left join areas as a
        on a.prefecture = b.prefecture
        and a.municipality = b.municipality
        and a.district = b.district
        and a.school_district = b.school_district
    order by a.area_order nulls last, b.district, b.school_district
)

select * from final
