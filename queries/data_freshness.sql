-- data_freshness: for each dataset, the municipality's latest month uploaded, when it was
-- uploaded, how many months there are, and the rows of the latest month.
-- params: $municipality (text), $prefecture (text)
with final as (
    select
        dataset,
        max(month) as latest_month,
        arg_max(committed_at, month) as latest_committed_at,
        count(distinct month) as n_months,
        arg_max(n_rows, month) as n_rows_latest,
    from uploads
    where municipality = $municipality
      and prefecture = $prefecture
    group by dataset
)

select * from final
order by dataset
