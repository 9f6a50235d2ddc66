-- participation_monthly: the 参加率 of an area in every month the municipality has a places
-- upload: people aged 65+ taking part in its 活動中 places (参加実人数のうち65歳以上) over the
-- area's people aged 65+, with how many 活動中 places give that count (n_reporting of
-- n_active). The rate (%, unrounded: pages show one decimal) is 0 where there is no 活動中
-- place, null where none gives the count.
-- A 年度's figure is its last month (is_fiscal_year_end: March, or the municipality's latest
-- month of a 年度 not over yet), as for the national survey.
-- params: $municipality (text), $prefecture (text, optional), $districts (list of text,
--         optional: empty = every district), $school_district (text, optional)
with months as (
    select distinct month
    from uploads
    where dataset = 'places'
      and municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
),

people as (
    select sum(population_65plus)::bigint as population_65plus,
    from areas
    where area_match(prefecture, municipality, district, school_district,
                     $prefecture::varchar, $municipality::varchar, $districts::varchar[],
                     $school_district::varchar)
),

counted as (
    select
        month,
        count(*) as n_active,
        count(participants_65plus) as n_reporting,
        sum(participants_real)::bigint as participants_real,
        sum(participants_65plus)::bigint as participants_65plus,
        sum(participants_75plus)::bigint as participants_75plus,
    from places
    where status = '活動中'
      and area_match(prefecture, municipality, district, school_district,
                     $prefecture::varchar, $municipality::varchar, $districts::varchar[],
                     $school_district::varchar)
    group by month
),

final as (
    select
        m.month,
        fiscal_year(m.month) as fiscal_year,
        fiscal_year_label(fiscal_year(m.month)) as fiscal_year_label,
        m.month = max(m.month) over (partition by fiscal_year(m.month)) as is_fiscal_year_end,
        p.population_65plus,
        coalesce(c.n_active, 0) as n_active,
        coalesce(c.n_reporting, 0) as n_reporting,
        c.participants_real,
        c.participants_65plus,
        c.participants_75plus,
        case
            when coalesce(c.n_active, 0) = 0 then 0.0
            else 100.0 * c.participants_65plus / nullif(p.population_65plus, 0)
        end as participation_rate_pct,
    from months as m
    cross join people as p
    left join counted as c using (month)
)

select * from final
order by month
