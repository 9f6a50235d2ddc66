-- data_freshness: for each dataset, the latest month uploaded, when it was uploaded, how
-- many months there are, and the rows of the latest month.
-- params: none
with final as (
    select
        dataset,
        max(month) as latest_month,
        arg_max(committed_at, month) as latest_committed_at,
        count(*) as n_months,
        arg_max(n_rows, month) as n_rows_latest,
    from uploads
    group by dataset
)

select * from final
order by dataset
