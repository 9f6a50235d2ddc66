-- school_districts: the school districts (小学校区, 第3層) of a municipality, optionally of
-- some districts, with people, 65+ and 高齢化率.
-- params: $municipality (text), $prefecture (text, optional), $districts (list of text, optional)
with final as (
    select
        prefecture,
        municipality,
        district,
        school_district,
        population,
        population_65plus,
        households,
        round(100.0 * population_65plus / nullif(population, 0), 1) as aging_rate_pct,
    from areas
    where area_match(prefecture, municipality, district, school_district,
                     $prefecture::varchar, $municipality::varchar, $districts::varchar[], null)
    order by area_order
)

select * from final
