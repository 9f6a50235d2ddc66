-- public_places: what the public guide for residents shows of a municipality's places — only
-- the places its organisers agreed to publish (公開 = はい) that are running (活動中), in the
-- municipality's own latest places list, and only the columns a resident's card shows. A
-- place at a private home (会場種別 個人宅), or whose venue is not given, has no coordinates
-- here: the guide shows it at its school district. Nothing else of a place (its ID, operator,
-- participants, subsidy) and nothing from other datasets is read, so a mistake elsewhere
-- cannot reach the public page through this query.
-- params: $municipality (text), $prefecture (text)
with latest as (
    select max(month) as month
    from uploads
    where dataset = 'places' and municipality = $municipality and prefecture = $prefecture
),

schools as (
    select district, school_district, area_order
    from areas
    where municipality = $municipality and prefecture = $prefecture
),

final as (
    select
        p.district,
        p.school_district,
        p.name,
        p.category,
        p.venue_type,
        p.target,
        p.weekdays,
        p.hours,
        p.fee_yen,
        p.contact,
        case when p.venue_type is not null and p.venue_type <> '個人宅' then p.lat end as lat,
        case when p.venue_type is not null and p.venue_type <> '個人宅' then p.lon end as lon,
        p.month,
    from places as p
    inner join latest as l on p.month = l.month
    left join schools as s on p.district = s.district and p.school_district = s.school_district
    where p.municipality = $municipality
      and p.prefecture = $prefecture
      and p.published is true
      and p.status = '活動中'
    order by s.area_order nulls last, p.name
)

select * from final
