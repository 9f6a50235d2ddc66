-- places_by_category: 活動中 places per 種別 in one month's snapshot.
-- params: $municipality (text), $prefecture (text, optional), $district (text, optional),
--         $month (text 'YYYY-MM', optional: null = the latest month)
with snapshot as (
    select *
    from places
    where month = coalesce($month::varchar, (select max(month) from places))
      and municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
      and ($district::varchar is null or district = $district)
      and status = '活動中'
),

final as (
    select
        category,
        count(*) as n_active,
        count(*) filter (where subsidized) as n_subsidized,
        sum(participants_avg) as participants_avg_total,
        sum(participants_avg * sessions_per_month * 12) as participations_per_year,
    from snapshot
    group by category
)

select * from final
order by n_active desc, category
