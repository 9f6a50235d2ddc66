-- pantry_breakdown: 互近助パントリー sites as of one month, split by one attribute:
-- supporter_type (サポーター種別) or activity_type (活動種別).
-- params: $municipality (text), $prefecture (text, optional), $districts (list of text,
--         optional: empty = every district), $school_district (text, optional)
--         $dimension (text: supporter_type | activity_type; any other value, or none, gives
--         no rows), $month (text 'YYYY-MM', optional: null = the latest month)
with snapshot as (
    select
        *,
        case $dimension::varchar
            when 'supporter_type' then supporter_type
            when 'activity_type' then activity_type
        end as value,
    from pantry
    where month = coalesce($month::varchar, (select max(month) from uploads where dataset = 'pantry'))
      and $dimension::varchar in ('supporter_type', 'activity_type')
      and area_match(prefecture, municipality, district, school_district,
                 $prefecture::varchar, $municipality::varchar, $districts::varchar[], $school_district::varchar)
),

final as (
    select
        value,
        count(*) as n_sites,
    from snapshot
    group by value
)

select * from final
order by n_sites desc, value
