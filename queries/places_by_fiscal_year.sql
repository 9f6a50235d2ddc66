-- places_by_fiscal_year: 活動中 places and 補助金対象 places per 年度, counted in the 年度's
-- last monthly snapshot (March; the latest month for a 年度 not yet over).
-- params: $municipality (text), $prefecture (text, optional), $districts (list of text,
--         optional: empty = every district), $school_district (text, optional)
with snapshots as (
    -- the months uploaded (a short list), not every row of places
    select distinct
        month,
        fiscal_year(month) as fiscal_year,
    from uploads
    where dataset = 'places'
),

year_end as (
    select
        fiscal_year,
        max(month) as as_of_month,
    from snapshots
    group by fiscal_year
),

counted as (
    select
        y.fiscal_year,
        y.as_of_month,
        count(*) filter (where p.status = '活動中') as n_active,
        count(*) filter (where p.status = '活動中' and p.subsidized) as n_subsidized,
    from year_end as y
    inner join places as p on p.month = y.as_of_month
    where area_match(p.prefecture, p.municipality, p.district, p.school_district,
                     $prefecture::varchar, $municipality::varchar, $districts::varchar[],
                     $school_district::varchar)
    group by y.fiscal_year, y.as_of_month
),

final as (
    select
        fiscal_year,
        fiscal_year_label(fiscal_year) as fiscal_year_label,
        as_of_month,
        n_active,
        n_subsidized,
    from counted
)

select * from final
order by fiscal_year
