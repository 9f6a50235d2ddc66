-- forums_by_type_district: events in a period per 種別 and district (blank district = the
-- whole municipality), with attendance.
-- params: $municipality (text), $prefecture (text, optional), $districts (list, optional),
--         $from_month, $to_month (text 'YYYY-MM', optional: null = from the first / to the
--         latest month on record)
with final as (
    select
        event_type,
        coalesce(district, '市町村全体') as district,
        count(*) as n_events,
        sum(attendees_onsite) as attendees_onsite,
        sum(attendees_online) as attendees_online,
        sum(attendees_onsite + attendees_online) as attendees_total,
    from forums
    where ($from_month::varchar is null or month >= $from_month)
      and ($to_month::varchar is null or month <= $to_month)
      and area_match(prefecture, municipality, district, null,
                     $prefecture::varchar, $municipality::varchar, $districts::varchar[], null)
    group by all
)

select * from final
order by event_type, district
