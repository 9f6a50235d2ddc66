-- pantry_by_activity_type: 互近助パントリー sites per 活動種別 as of one month.
-- params: $municipality (text), $prefecture (text, optional), $districts (list of text,
--         optional: empty = every district), $school_district (text, optional)
--         $month (text 'YYYY-MM', optional: null = the latest month)
with snapshot as (
    select *
    from pantry
    where month = coalesce($month::varchar, (select max(month) from uploads where dataset = 'pantry'))
      and area_match(prefecture, municipality, district, school_district,
                 $prefecture::varchar, $municipality::varchar, $districts::varchar[], $school_district::varchar)
),

final as (
    select
        activity_type,
        count(*) as n_sites,
    from snapshot
    group by activity_type
)

select * from final
order by n_sites desc, activity_type
