-- upload_status: who has sent what, for the conference board: each municipality of a
-- prefecture × dataset (places, pantry, forums, areas) with the latest month received, whether
-- the month asked about is in (areas, a master kept until replaced: whether one is on file),
-- and who sent it and when (that month's upload; when it is not in, the latest one's). The month
-- itself is the caller's (a value given is never echoed back).
-- state: 'missing' (sent before, not this month), 'never' (nothing ever sent), 'in'; rows in
-- that order within each dataset, so the ones to chase come first.
-- params: $prefecture (text), $month (text 'YYYY-MM', optional: null = the latest month any
--         municipality uploaded places, pantry or forums)
with target as (
    select coalesce($month::varchar, (select max(month) from uploads where dataset not in ('areas', 'boundaries'))) as month
),

datasets as (
    select * from (values ('places', 1), ('pantry', 2), ('forums', 3), ('areas', 4))
        as d (dataset, dataset_order)
),

received as (
    select
        u.dataset,
        u.municipality,
        max(u.month) as latest_month,
        -- the upload described: this month's, or for areas the master on file
        max(u.month) filter (where u.month = t.month or u.dataset = 'areas') as month_in,
    from uploads as u
    cross join target as t
    where u.prefecture = $prefecture
    group by all
),

final as (
    select
        m.prefecture,
        m.municipality,
        m.municipality_code,
        m.project_group,
        d.dataset,
        r.latest_month,
        r.month_in is not null as is_in,
        case
            when r.month_in is not null then 'in'
            when r.latest_month is null then 'never'
            else 'missing'
        end as state,
        u.user_name,
        u.committed_at,
        d.dataset_order,
    from municipalities as m
    cross join datasets as d
    cross join target as t
    left join received as r on r.dataset = d.dataset and r.municipality = m.municipality
    left join uploads as u
        on u.dataset = d.dataset
        and u.prefecture = m.prefecture
        and u.municipality = m.municipality
        and u.month = coalesce(r.month_in, r.latest_month)
    where m.prefecture = $prefecture
)

select * exclude (dataset_order) from final
order by dataset_order, case state when 'missing' then 0 when 'never' then 1 else 2 end, municipality
