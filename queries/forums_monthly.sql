-- forums_monthly: events month by month: how many, attendance on site and online, and
-- survey response and positive rates.
-- params: $municipality (text), $prefecture (text, optional), $districts (list, optional)
with final as (
    select
        u.month,
        count(f.event_id) as n_events,
        coalesce(sum(f.attendees_onsite), 0) as attendees_onsite,
        coalesce(sum(f.attendees_online), 0) as attendees_online,
        sum(f.survey_responses) as survey_responses,
        sum(f.survey_positive) as survey_positive,
        round(100.0 * sum(f.survey_responses)
              / nullif(sum(f.attendees_onsite + f.attendees_online)
                       filter (where f.survey_responses is not null), 0), 1) as response_rate_pct,
        round(100.0 * sum(f.survey_positive) / nullif(sum(f.survey_responses), 0), 1)
            as positive_rate_pct,
    from (
        -- the months this municipality uploaded its events (a month with none is a zero)
        select distinct month from uploads
        where dataset = 'forums'
          and municipality = $municipality
          and ($prefecture::varchar is null or prefecture = $prefecture)
    ) as u
    left join forums as f
        on f.month = u.month
        and area_match(f.prefecture, f.municipality, f.district, null,
                       $prefecture::varchar, $municipality::varchar, $districts::varchar[], null)
    group by u.month
)

select * from final
order by month
