-- pantry_monthly: 互近助パントリー month by month: sites, new and cumulative donors,
-- households served, items distributed, consultations, referrals and the referral rate.
-- params: $municipality (text), $prefecture (text, optional), $districts (list of text,
--         optional: empty = every district), $school_district (text, optional)
with monthly as (
    select
        month,
        count(*) as n_sites,
        sum(new_donors) as new_donors,
        sum(donations) as donations,
        sum(households_served) as households_served,
        sum(items_distributed) as items_distributed,
        sum(consultations) as consultations,
        sum(referrals) as referrals,
    from pantry
    where area_match(prefecture, municipality, district, school_district,
                 $prefecture::varchar, $municipality::varchar, $districts::varchar[], $school_district::varchar)
    group by month
),

final as (
    select
        month,
        n_sites,
        new_donors,
        sum(new_donors) over (order by month rows unbounded preceding) as cumulative_donors,
        donations,
        households_served,
        items_distributed,
        consultations,
        referrals,
        round(100.0 * referrals / nullif(consultations, 0), 1) as referral_rate_pct,
    from monthly
)

select * from final
order by month
