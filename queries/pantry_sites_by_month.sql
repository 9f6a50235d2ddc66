-- pantry_sites_by_month: 互近助パントリー sites per district, month by month.
-- params: $municipality (text), $prefecture (text, optional), $districts (list of text,
--         optional: empty = every district), $school_district (text, optional)
with final as (
    select
        month,
        district,
        count(*) as n_sites,
    from pantry
    where area_match(prefecture, municipality, district, school_district,
                 $prefecture::varchar, $municipality::varchar, $districts::varchar[], $school_district::varchar)
    group by month, district
)

select * from final
order by month, district
