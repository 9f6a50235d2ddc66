-- months: every month with an upload of any dataset, newest first, with its 年度.
-- params: none
with uploaded as (  -- the months first: uploads has a row per municipality and month
    select distinct month
    from uploads
    where dataset <> 'areas'
),

final as (
    select
        month,
        fiscal_year(month) as fiscal_year,
        fiscal_year_label(fiscal_year(month)) as fiscal_year_label,
    from uploaded
)

select * from final
order by month desc
