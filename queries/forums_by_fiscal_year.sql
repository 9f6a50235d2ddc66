-- forums_by_fiscal_year: events per 年度 and 種別: how many, in how many districts, who
-- came (on site and online) and what the surveys said.
-- params: $municipality (text), $prefecture (text, optional), $event_type (text, optional)
with filtered as (
    select
        *,
        fiscal_year(month) as fiscal_year,
    from forums
    where municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
      and ($event_type::varchar is null or event_type = $event_type)
),

final as (
    select
        fiscal_year,
        fiscal_year_label(fiscal_year) as fiscal_year_label,
        event_type,
        count(*) as n_events,
        count(distinct district) as n_districts,
        sum(attendees_onsite) as attendees_onsite,
        sum(attendees_online) as attendees_online,
        sum(attendees_onsite + attendees_online) as attendees_total,
        sum(survey_responses) as survey_responses,
        sum(survey_positive) as survey_positive,
        round(100.0 * sum(survey_positive) / nullif(sum(survey_responses), 0), 1)
            as positive_rate_pct,
    from filtered
    group by fiscal_year, event_type
)

select * from final
order by fiscal_year, event_type
