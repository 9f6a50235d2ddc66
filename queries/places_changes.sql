-- places_changes: places that opened, paused or ended between $from_month and $to_month:
-- opened = first listed in the period (not in the first month on record); paused = 活動中 the
-- month before the period and 休止中 at its end; ended = marked 終了 in the period.
-- params: $municipality (text), $prefecture (text, optional), $districts (list of text,
--         optional: empty = every district), $school_district (text, optional)
--         $from_month, $to_month (text 'YYYY-MM', optional: null = from the first / to the
--         latest month on record; nothing is 休止 from the first month, having no month before)
with period as (
    select
        coalesce($from_month::varchar, min(month)) as from_month,
        coalesce($to_month::varchar, max(month)) as to_month,
    from uploads
    where dataset = 'places'
),

filtered as (
    select *
    from places
    where area_match(prefecture, municipality, district, school_district,
                 $prefecture::varchar, $municipality::varchar, $districts::varchar[], $school_district::varchar)
),

first_seen as (
    select
        place_id,
        min(month) as first_month,
    from filtered
    group by place_id
),

opened as (
    select
        '開始' as change,
        f.first_month as month,
        p.place_id,
    from first_seen as f
    inner join filtered as p on p.place_id = f.place_id and p.month = f.first_month
    cross join period
    where f.first_month between period.from_month and period.to_month
      and f.first_month > (select min(month) from uploads where dataset = 'places')
),

paused as (
    select
        '休止' as change,
        e.month,
        e.place_id,
    from filtered as e
    inner join filtered as b
        on b.place_id = e.place_id and b.month = month_before((select from_month from period))
    where e.month = (select to_month from period)
      and e.status = '休止中'
      and b.status = '活動中'
),

ended as (
    select
        '終了' as change,
        month,
        place_id,
    from filtered
    cross join period
    where status = '終了'
      and month between period.from_month and period.to_month
),

changes as (
    select * from opened
    union all
    select * from paused
    union all
    select * from ended
),

final as (
    select
        c.change,
        c.month,
        c.place_id,
        p.name,
        p.district,
        p.school_district,
        p.category,
    from changes as c
    inner join filtered as p on p.place_id = c.place_id and p.month = c.month
    order by c.change, c.month, p.district, c.place_id
)

select * from final
