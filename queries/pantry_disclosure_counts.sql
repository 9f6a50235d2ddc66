-- pantry_disclosure_counts: consultations and referrals of every school district of a
-- municipality in every month with a pantry upload (zeros included), from which the
-- disclosure rule (tsunagu/privacy.py) decides what a viewer, the wall and paper may see.
-- params: $municipality (text), $prefecture (text, optional)
with schools as (
    select prefecture, district, school_district, area_order
    from areas
    where municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
),

months as (
    select distinct month
    from uploads
    where dataset = 'pantry'
),

counts as (
    select
        prefecture,
        district,
        school_district,
        month,
        sum(consultations) as consultations,
        sum(referrals) as referrals,
    from pantry
    where municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
    group by all
),

final as (
    select
        s.district,
        s.school_district,
        m.month,
        coalesce(c.consultations, 0) as consultations,
        coalesce(c.referrals, 0) as referrals,
    from schools as s
    cross join months as m
    left join counts as c
        on c.prefecture = s.prefecture
        and c.district = s.district
        and c.school_district = s.school_district
        and c.month = m.month
    order by m.month, s.area_order
)

select * from final
