-- district_card: one district on one screen (地区カルテ): each figure beside the
-- municipality's: the average district for counts, the whole municipality for rates.
-- params: $municipality (text), $prefecture (text, optional), $district (text),
--         $month (text 'YYYY-MM', optional: null = the latest month),
--         $from_month, $to_month (text 'YYYY-MM', optional: the period for events; null = from
--         the first / to the latest month on record)
with dists as (
    select *
    from districts
    where municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
),

place_counts as (
    select
        district,
        count(*) filter (where status = '活動中') as n_active,
        count(*) filter (where status = '活動中' and subsidized) as n_subsidized,
    from places
    where month = coalesce($month::varchar, (select max(month) from uploads where dataset = 'places'))
      and municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
    group by district
),

pantry_counts as (
    select
        district,
        count(*) as n_sites,
        sum(households_served) as households_served,
        sum(consultations) as consultations,
        sum(referrals) as referrals,
    from pantry
    where month = coalesce($month::varchar, (select max(month) from uploads where dataset = 'pantry'))
      and municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
    group by district
),

forum_counts as (
    select
        district,
        count(*) as n_events,
        sum(attendees_onsite + attendees_online) as attendees_total,
    from forums
    where ($from_month::varchar is null or month >= $from_month)
      and ($to_month::varchar is null or month <= $to_month)
      and municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
      and district is not null
    group by district
),

per_district as (
    select
        d.district,
        d.population,
        d.population_65plus,
        100.0 * d.population_65plus / nullif(d.population, 0) as aging_rate_pct,
        d.n_school_districts,
        coalesce(p.n_active, 0) as n_active,
        coalesce(p.n_subsidized, 0) as n_subsidized,
        1000.0 * coalesce(p.n_active, 0) / nullif(d.population_65plus, 0) as active_per_1000_65plus,
        coalesce(s.n_sites, 0) as n_pantry_sites,
        coalesce(s.households_served, 0) as households_served,
        coalesce(s.consultations, 0) as consultations,
        coalesce(s.referrals, 0) as referrals,
        coalesce(f.n_events, 0) as n_events,
        coalesce(f.attendees_total, 0) as attendees_total,
    from dists as d
    left join place_counts as p using (district)
    left join pantry_counts as s using (district)
    left join forum_counts as f using (district)
),

measures as (
    unpivot per_district
    on population, population_65plus, aging_rate_pct, n_school_districts, n_active,
       n_subsidized, active_per_1000_65plus, n_pantry_sites, households_served,
       consultations, referrals, n_events, attendees_total
    into name measure value value
),

whole as (
    -- rates compare with the municipality as a whole, not with an average of rates
    select
        100.0 * sum(population_65plus) / nullif(sum(population), 0) as aging_rate_pct,
        1000.0 * sum(n_active) / nullif(sum(population_65plus), 0) as active_per_1000_65plus,
    from per_district
),

measure_order as (
    select
        unnest(['population', 'population_65plus', 'aging_rate_pct', 'n_school_districts',
                'n_active', 'n_subsidized', 'active_per_1000_65plus', 'n_pantry_sites',
                'households_served', 'consultations', 'referrals', 'n_events',
                'attendees_total']) as measure,
        generate_subscripts(['population', 'population_65plus', 'aging_rate_pct',
                'n_school_districts', 'n_active', 'n_subsidized', 'active_per_1000_65plus',
                'n_pantry_sites', 'households_served', 'consultations', 'referrals',
                'n_events', 'attendees_total'], 1) as measure_order,
),

final as (
    select
        m.measure,
        max(m.value) filter (where m.district = $district::varchar) as district_value,
        case m.measure
            when 'aging_rate_pct' then any_value(w.aging_rate_pct)
            when 'active_per_1000_65plus' then any_value(w.active_per_1000_65plus)
            else avg(m.value)
        end as municipality_value,
        m.measure in ('aging_rate_pct', 'active_per_1000_65plus') as is_rate,
        any_value(o.measure_order) as measure_order,
    from measures as m
    cross join whole as w
    inner join measure_order as o using (measure)
    group by m.measure
)

select measure, district_value, municipality_value, is_rate from final
order by measure_order
