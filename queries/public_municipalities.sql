-- public_municipalities: the municipalities whose public guide has something to show — at
-- least one place published (公開 = はい) and running in its own latest places list — with
-- how many, in the order areas lists them. Names and counts of published places only.
-- params: none
with latest as (
    select prefecture, municipality, max(month) as month
    from uploads
    where dataset = 'places'
    group by all
),

counted as (
    select
        p.prefecture,
        p.municipality,
        count(*) as n_published,
    from places as p
    inner join latest as l
        on p.prefecture = l.prefecture and p.municipality = l.municipality and p.month = l.month
    where p.published is true and p.status = '活動中'
    group by all
),

final as (
    select
        c.prefecture,
        c.municipality,
        m.municipality_code,
        c.n_published,
    from counted as c
    left join municipalities as m on c.prefecture = m.prefecture and c.municipality = m.municipality
    order by m.area_order nulls last, c.prefecture, c.municipality
)

select * from final
