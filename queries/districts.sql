-- districts: the districts (地区, 第2層) of a municipality in the order the areas file lists
-- them, with people, 65+ and 高齢化率.
-- params: $municipality (text), $prefecture (text, optional)
with final as (
    select
        prefecture,
        municipality,
        district,
        population,
        population_65plus,
        households,
        round(100.0 * population_65plus / nullif(population, 0), 1) as aging_rate_pct,
        n_school_districts,
    from districts
    where municipality = $municipality
      and ($prefecture::varchar is null or prefecture = $prefecture)
    order by area_order
)

select * from final
