-- survey_places: every place a municipality listed in the month its national 通いの場 survey
-- of a 年度 counts: the 年度's last month it uploaded (March, or its latest month of a 年度 not
-- over yet), with the columns the survey's items come from. The survey's rules (which places
-- count, under which heading) are applied by tsunagu/query/survey.py.
-- params: $municipality (text), $prefecture (text, optional), $fiscal_year (int: 2024 = 令和6年度)
with survey_month as (
    select max(month) as month,
    from uploads
    where dataset = 'places'
      and municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
      and fiscal_year(month) = $fiscal_year::int
),

final as (
    select
        p.month as as_of_month,
        p.place_id,
        p.name,
        p.district,
        p.school_district,
        p.status,
        p.category,
        p.main_activity,
        p.operator_type,
        p.venue_type,
        p.sessions_per_month,
        p.participants_real,
        p.participants_65plus,
        p.participants_75plus,
    from places as p
    inner join survey_month as s on p.month = s.month
    where p.municipality = $municipality
      and ($prefecture::varchar is null or p.prefecture = $prefecture)
    order by p.district, p.school_district, p.place_id
)

select * from final
