-- participation_by_district: each district's 参加率 in one month's snapshot: people aged 65+
-- taking part in its 活動中 places (参加実人数のうち65歳以上) over its people aged 65+, with
-- how many 活動中 places give that count (n_reporting of n_active); the rate (%) unrounded
-- (pages show one decimal), 0 where the district has
-- no 活動中 place, null where none gives the count. Every (selected) district is listed.
-- params: $municipality (text), $prefecture (text, optional), $districts (list of text,
--         optional: empty = every district), $month (text 'YYYY-MM', optional: null = the
--         latest month)
with snapshot as (
    select *
    from places
    where month = coalesce($month::varchar, (select max(month) from uploads where dataset = 'places'))
      and status = '活動中'
),

counted as (
    select
        d.district,
        d.area_order,
        d.population_65plus::bigint as population_65plus,
        count(p.place_id) as n_active,
        count(p.participants_65plus) as n_reporting,
        sum(p.participants_real)::bigint as participants_real,
        sum(p.participants_65plus)::bigint as participants_65plus,
        sum(p.participants_75plus)::bigint as participants_75plus,
    from districts as d
    left join snapshot as p
        on p.prefecture = d.prefecture
        and p.municipality = d.municipality
        and p.district = d.district
    where area_match(d.prefecture, d.municipality, d.district, null,
                     $prefecture::varchar, $municipality::varchar, $districts::varchar[], null)
    group by all
),

final as (
    select
        district,
        population_65plus,
        n_active,
        n_reporting,
        participants_real,
        participants_65plus,
        participants_75plus,
        case
            when n_active = 0 then 0.0
            else 100.0 * participants_65plus / nullif(population_65plus, 0)
        end as participation_rate_pct,
    from counted
    order by area_order
)

select * from final
