-- places_directory: the 通いの場一覧表 councils print: the places of one month's snapshot that
-- are still running (活動中 and 休止中; 終了 is left out), ordered by district and school
-- district as the areas file lists them, then by name; with what residents are told of each
-- (開催曜日, 開催時間, 参加費, 問い合わせ先) and whether it is in the public guide (公開).
-- params: $municipality (text), $prefecture (text, optional), $districts (list, optional),
--         $month (text 'YYYY-MM', optional: null = the latest month)
with schools as (
    select prefecture, municipality, district, school_district, area_order
    from areas
    where area_match(prefecture, municipality, district, school_district,
                     $prefecture::varchar, $municipality::varchar, $districts::varchar[], null)
),

final as (
    select
        p.district,
        p.school_district,
        p.name,
        p.category,
        p.venue_type,
        p.target,
        p.sessions_per_month,
        p.status,
        p.weekdays,
        p.hours,
        p.fee_yen,
        p.contact,
        coalesce(p.published, false) as is_published,
    from places as p
    inner join schools as s
        on p.prefecture = s.prefecture
        and p.municipality = s.municipality
        and p.district = s.district
        and p.school_district = s.school_district
    where p.month = coalesce($month::varchar, (select max(month) from uploads where dataset = 'places'))
      and p.status in ('活動中', '休止中')
    order by s.area_order, p.name, p.place_id
)

select * from final
