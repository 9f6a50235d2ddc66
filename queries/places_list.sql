-- places_list: the places of one month's snapshot, for the searchable table and the map;
-- $search matches the name, ID, school district or category.
-- params: $municipality (text), $prefecture (text, optional), $districts (list of text,
--         optional: empty = every district), $school_district (text, optional)
--         $month (text 'YYYY-MM', optional: null = the latest month), $search (text, optional),
--         $status (text, optional: 活動中 / 休止中 / 終了)
with final as (
    select
        place_id,
        name,
        district,
        school_district,
        category,
        venue_type,
        operator_type,
        target,
        sessions_per_month,
        participants_avg,
        subsidized,
        status,
        started_on,
        lat,
        lon,
    from places
    where month = coalesce($month::varchar, (select max(month) from uploads where dataset = 'places'))
      and area_match(prefecture, municipality, district, school_district,
                 $prefecture::varchar, $municipality::varchar, $districts::varchar[], $school_district::varchar)
      and ($status::varchar is null or status = $status)
      and ($search::varchar is null
           or contains(lower(name || ' ' || place_id || ' ' || school_district || ' ' || category),
                       lower($search)))
    order by district, school_district, place_id
)

select * from final
