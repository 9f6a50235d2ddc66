-- months: every month with an upload of any dataset (of the municipality, if given), newest
-- first, with its 年度. A council that has not sent a month yet is shown its own latest.
-- params: $municipality (text, optional: null = every municipality),
-- $prefecture (text, optional: null = every prefecture)
with uploaded as (  -- the months first: uploads has a row per municipality and month
    select distinct month
    from uploads
    where dataset not in ('areas', 'boundaries')  -- reference data, not a month's figures
      and ($municipality::varchar is null or municipality = $municipality)
      and ($prefecture::varchar is null or prefecture = $prefecture)
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
