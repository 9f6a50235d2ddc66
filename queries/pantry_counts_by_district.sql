-- pantry_counts_by_district: consultations and referrals per district over a period, every
-- district of the municipality listed (zeros included), to decide what viewers may see.
-- params: $municipality (text), $prefecture (text, optional),
--         $from_month, $to_month (text 'YYYY-MM')
with period as (
    select *
    from pantry
    where month between $from_month::varchar and $to_month::varchar
      and municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
),

final as (
    select
        d.district,
        coalesce(sum(p.consultations), 0) as consultations,
        coalesce(sum(p.referrals), 0) as referrals,
    from districts as d
    left join period as p on p.prefecture = d.prefecture and p.district = d.district
    where d.municipality = $municipality
      and ($prefecture::varchar is null or d.prefecture = $prefecture)
    group by d.district, d.area_order
    order by d.area_order
)

select * from final
