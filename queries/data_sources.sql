-- data_sources: the upload behind each dataset of a handout for one month: places and pantry
-- are that month's snapshot, forums the 年度 up to that month, areas the latest upload; with
-- when each was registered (the 出典 line printed on every page), by the municipality's own
-- uploads.
-- params: $month (text 'YYYY-MM'), $from_month (text 'YYYY-MM': the first month of events),
-- $municipality (text), $prefecture (text)
with own as (
    select * from uploads where municipality = $municipality and prefecture = $prefecture
),

wanted as (
    select
        dataset,
        max(month) as month,
        min(month) as first_month,
        max(committed_at) as committed_at,
        count(distinct month) as n_months,
    from own
    where (dataset in ('places', 'pantry') and month = $month::varchar)
       or (dataset = 'forums' and month between $from_month::varchar and $month::varchar)
       or (dataset = 'areas' and month = (select max(month) from own where dataset = 'areas'))
    group by dataset
),

final as (
    select dataset, first_month, month, n_months, committed_at
    from wanted
    order by case dataset when 'places' then 1 when 'pantry' then 2 when 'forums' then 3 else 4 end
)

select * from final
