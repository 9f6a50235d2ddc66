-- participation_coverage: for each school district, its 高齢化率 beside its 参加率 (people
-- aged 65+ taking part in its 活動中 places ÷ its people aged 65+; 0 with no 活動中 place,
-- null where none gives the count; %, unrounded: pages show one decimal), with the
-- municipality's 高齢化率 to compare with.
-- params: $municipality (text), $prefecture (text, optional), $districts (list of text,
--         optional: empty = every district), $month (text 'YYYY-MM', optional: null = the
--         latest month)
with per_school as (
    -- the database's school_district_places (tsunagu/query/database.py), as in places_coverage
    select *
    from school_district_places($prefecture::varchar, $municipality::varchar, $month::varchar)
),

whole as (
    select round(100.0 * sum(population_65plus) / nullif(sum(population), 0), 1) as aging_rate_pct,
    from per_school
),

final as (
    select
        s.district,
        s.school_district,
        s.population_65plus,
        round(100.0 * s.population_65plus / nullif(s.population, 0), 1) as aging_rate_pct,
        s.n_active,
        s.n_reporting,
        s.participants_65plus,
        case
            when s.n_active = 0 then 0.0
            else 100.0 * s.participants_65plus / nullif(s.population_65plus, 0)
        end as participation_rate_pct,
        w.aging_rate_pct as municipality_aging_rate_pct,
    from per_school as s
    cross join whole as w
    where $districts::varchar[] is null or len($districts::varchar[]) = 0
       or list_contains($districts::varchar[], s.district)
    order by s.area_order
)

select * from final
