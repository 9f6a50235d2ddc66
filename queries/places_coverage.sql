-- places_coverage: for each school district, 活動中 places per 1,000 people aged 65+ beside
-- its 高齢化率, and whether it is a gap: older than the municipality as a whole and with
-- fewer than three quarters of the municipality's places per 1,000 people 65+.
-- params: $municipality (text), $prefecture (text, optional), $districts (list, optional),
--         $month (text 'YYYY-MM', optional: null = the latest month)
with per_school as (
    -- the database's school_district_places (tsunagu/query/database.py), as in participation_coverage
    select *
    from school_district_places($prefecture::varchar, $municipality::varchar, $month::varchar)
),

whole as (
    select
        sum(population_65plus) / sum(population) as aging_rate,
        sum(n_active) / sum(population_65plus) as active_per_65plus,
    from per_school
),

final as (
    select
        s.district,
        s.school_district,
        s.population_65plus,
        round(100.0 * s.population_65plus / nullif(s.population, 0), 1) as aging_rate_pct,
        s.n_active,
        round(1000.0 * s.n_active / nullif(s.population_65plus, 0), 2) as active_per_1000_65plus,
        round(1000.0 * w.active_per_65plus, 2) as municipality_per_1000_65plus,
        s.population_65plus / nullif(s.population, 0) > w.aging_rate
            and s.n_active / nullif(s.population_65plus, 0) < 0.75 * w.active_per_65plus as is_gap,
    from per_school as s
    cross join whole as w
    where $districts::varchar[] is null or len($districts::varchar[]) = 0
       or list_contains($districts::varchar[], s.district)
    order by s.area_order
)

select * from final
