-- forums_by_type_district: events in a period per 種別 and district (blank district = the
-- whole municipality), with attendance.
-- params: $municipality (text), $prefecture (text, optional), $districts (list, optional),
--         $from_month, $to_month (text 'YYYY-MM')
with final as (
    select
        event_type,
        coalesce(district, '市町村全体') as district,
        count(*) as n_events,
        sum(attendees_onsite) as attendees_onsite,
        sum(attendees_online) as attendees_online,
        sum(attendees_onsite + attendees_online) as attendees_total,
    from forums
    where month between $from_month::varchar and $to_month::varchar
      and area_match(prefecture, municipality, district, null,
                     $prefecture::varchar, $municipality::varchar, $districts::varchar[], null)
    group by all
)

select * from final
order by event_type, district
