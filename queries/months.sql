-- months: every month with an upload of any dataset, newest first, with its 年度.
-- params: none
with final as (
    select distinct
        month,
        fiscal_year(month) as fiscal_year,
        fiscal_year_label(fiscal_year(month)) as fiscal_year_label,
    from uploads
    where dataset <> 'areas'
)

select * from final
order by month desc
