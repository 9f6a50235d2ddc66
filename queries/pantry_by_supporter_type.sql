-- pantry_by_supporter_type: 互近助パントリー sites per サポーター種別 as of one month.
-- params: $municipality (text), $prefecture (text, optional), $district (text, optional),
--         $month (text 'YYYY-MM', optional: null = the latest month)
with snapshot as (
    select *
    from pantry
    where month = coalesce($month::varchar, (select max(month) from pantry))
      and municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
      and ($district::varchar is null or district = $district)
),

final as (
    select
        supporter_type,
        count(*) as n_sites,
    from snapshot
    group by supporter_type
)

select * from final
order by n_sites desc, supporter_type
