-- places_breakdown: 活動中 places in one month's snapshot, split by one attribute:
-- category (種別), venue_type (会場種別), operator_type (運営主体) or target (対象).
-- params: $municipality (text), $prefecture (text, optional), $districts (list of text,
--         optional: empty = every district), $school_district (text, optional)
--         $dimension (text: category | venue_type | operator_type | target; any other
--         value, or none, gives no rows),
--         $month (text 'YYYY-MM', optional: null = the latest month)
with snapshot as (
    select
        *,
        case $dimension::varchar
            when 'category' then category
            when 'venue_type' then venue_type
            when 'operator_type' then operator_type
            when 'target' then target
        end as value,
    from places
    where month = coalesce($month::varchar, (select max(month) from uploads where dataset = 'places'))
      and status = '活動中'
      and $dimension::varchar in ('category', 'venue_type', 'operator_type', 'target')
      and area_match(prefecture, municipality, district, school_district,
                 $prefecture::varchar, $municipality::varchar, $districts::varchar[], $school_district::varchar)
),

final as (
    select
        coalesce(value, '未記入') as value,
        count(*) as n_active,
        count(*) filter (where subsidized) as n_subsidized,
        sum(participants_avg) as participants_avg_total,
        sum(participants_avg * sessions_per_month * 12) as participations_per_year,
    from snapshot
    group by all
)

select * from final
order by n_active desc, value
