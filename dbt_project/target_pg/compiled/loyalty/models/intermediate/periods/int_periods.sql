-- One row per period_grain ('day','week','month') and period_start: every period from the
-- first order, survey response or ticket up to and including the one containing the
-- business date. period_end is exclusive; *_at are the boundaries in UTC.
with

dates as (select * from "loyalty_wh_dev"."core"."dim_date"),

orders as (select min(ordered_date) as first_date from "loyalty_wh_dev"."core"."fct_orders"),
surveys as (select min(submitted_date) as first_date from "loyalty_wh_dev"."core"."fct_survey_responses"),
tickets as (select min(created_date) as first_date from "loyalty_wh_dev"."core"."fct_tickets"),

data_start as (

    select
        least(
            coalesce(orders.first_date, cast('2026-11-21' as date)),
            coalesce(surveys.first_date, cast('2026-11-21' as date)),
            coalesce(tickets.first_date, cast('2026-11-21' as date)),
            cast('2026-11-21' as date)
        ) as first_date
    from orders
    cross join surveys
    cross join tickets

),

periods as (

    select distinct
        grains.period_grain,
        case grains.period_grain
        when 'day' then cast(dates.date_day as date)
        when 'week' then cast(date_trunc('week', cast(dates.date_day as timestamp)) as date)
        when 'month' then cast(date_trunc('month', cast(dates.date_day as timestamp)) as date)
    end as period_start
    from dates
    cross join (values ('day'), ('week'), ('month')) as grains (period_grain)
    cross join data_start
    where dates.date_day >= data_start.first_date
        and dates.date_day <= cast('2026-11-21' as date)

),

final as (

    select
        period_grain,
        period_start,
        case period_grain
        when 'day' then cast(

    period_start + ((interval '1 day') * (1))

 as date)
        when 'week' then cast(

    period_start + ((interval '1 day') * (7))

 as date)
        when 'month' then cast(

    period_start + ((interval '1 month') * (1))

 as date)
    end as period_end,
        ((cast(period_start as timestamp)) at time zone 'Asia/Shanghai') at time zone 'UTC' as period_start_at,
        ((cast(case period_grain
        when 'day' then cast(

    period_start + ((interval '1 day') * (1))

 as date)
        when 'week' then cast(

    period_start + ((interval '1 day') * (7))

 as date)
        when 'month' then cast(

    period_start + ((interval '1 month') * (1))

 as date)
    end as timestamp)) at time zone 'Asia/Shanghai') at time zone 'UTC' as period_end_at
    from periods

)

select * from final