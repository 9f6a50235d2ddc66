-- forum_events: the events held, with attendance and survey answers, newest first.
-- params: $municipality (text, optional), $prefecture (text, optional),
--         $districts (list, optional), $event_type (text, optional),
--         $from_month / $to_month (text 'YYYY-MM', optional: inclusive)
with final as (
    select
        held_on,
        event_id,
        title,
        event_type,
        prefecture,
        municipality,
        district,
        venue,
        format,
        attendees_onsite,
        attendees_online,
        attendees_onsite + attendees_online as attendees_total,
        survey_responses,
        survey_positive,
        round(100.0 * survey_positive / nullif(survey_responses, 0), 1) as positive_rate_pct,
    from forums
    where ($municipality::varchar is null or municipality = $municipality)
      and ($prefecture::varchar is null or prefecture = $prefecture)
      and ($districts::varchar[] is null or len($districts::varchar[]) = 0
           or list_contains($districts::varchar[], district))
      and ($event_type::varchar is null or event_type = $event_type)
      and ($from_month::varchar is null or month >= $from_month)
      and ($to_month::varchar is null or month <= $to_month)
)

select * from final
order by held_on desc, event_id
