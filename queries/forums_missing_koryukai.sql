-- forums_missing_koryukai: the districts that held no 交流会 (通いの場交流会 or
-- 居場所交流会・学習会) in a 年度, with when they last held one.
-- params: $municipality (text), $prefecture (text, optional), $districts (list, optional),
--         $fiscal_year (integer)
with held as (
    select
        district,
        max(held_on) as last_held_on,
        count(*) filter (where fiscal_year(month) = $fiscal_year::integer) as n_this_year,
    from forums
    where event_type in ('通いの場交流会', '居場所交流会・学習会')
      and municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
      and fiscal_year(month) <= $fiscal_year::integer
    group by district
),

final as (
    select
        d.district,
        h.last_held_on,
    from districts as d
    left join held as h on h.district = d.district
    where area_match(d.prefecture, d.municipality, d.district, null,
                     $prefecture::varchar, $municipality::varchar, $districts::varchar[], null)
      and coalesce(h.n_this_year, 0) = 0
    order by d.area_order
)

select * from final
