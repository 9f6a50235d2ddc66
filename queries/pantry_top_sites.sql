-- pantry_top_sites: the most active pantry sites over a period, by households served.
-- params: $municipality (text), $prefecture (text, optional), $districts (list of text,
--         optional: empty = every district), $school_district (text, optional)
--         $from_month, $to_month (text 'YYYY-MM', optional: null = from the first / to the
--         latest month on record), $limit (integer, optional: 10)
with period as (
    select *
    from pantry
    where ($from_month::varchar is null or month >= $from_month)
      and ($to_month::varchar is null or month <= $to_month)
      and area_match(prefecture, municipality, district, school_district,
                 $prefecture::varchar, $municipality::varchar, $districts::varchar[], $school_district::varchar)
),

final as (
    select
        pantry_id,
        arg_max(site_name, month) as site_name,
        arg_max(district, month) as district,
        arg_max(supporter_type, month) as supporter_type,
        sum(households_served) as households_served,
        sum(items_distributed) as items_distributed,
        sum(consultations) as consultations,
        sum(referrals) as referrals,
        count(*) as n_months,
    from period
    group by pantry_id
)

select * from final
order by households_served desc, pantry_id
limit coalesce($limit::integer, 10)
