-- pantry_by_supporter_type: 互近助パントリー sites per サポーター種別 as of one month.
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
        supporter_type,
        count(*) as n_sites,
    from snapshot
    group by supporter_type
)

select * from final
order by n_sites desc, supporter_type
