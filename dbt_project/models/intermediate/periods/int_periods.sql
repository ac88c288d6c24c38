-- One row per period_grain ('day','week','month') and period_start: every period from the
-- first order, survey response or ticket up to and including the one containing the
-- business date. period_end is exclusive; *_at are the boundaries in UTC.
with

dates as (select * from {{ ref('dim_date') }}),

orders as (select min(ordered_date) as first_date from {{ ref('fct_orders') }}),
surveys as (select min(submitted_date) as first_date from {{ ref('fct_survey_responses') }}),
tickets as (select min(created_date) as first_date from {{ ref('fct_tickets') }}),

data_start as (

    select
        least(
            coalesce(orders.first_date, {{ business_date() }}),
            coalesce(surveys.first_date, {{ business_date() }}),
            coalesce(tickets.first_date, {{ business_date() }}),
            {{ business_date() }}
        ) as first_date
    from orders
    cross join surveys
    cross join tickets

),

periods as (

    select distinct
        grains.period_grain,
        {{ period_start('grains.period_grain', 'dates.date_day') }} as period_start
    from dates
    cross join {{ period_grains() }}
    cross join data_start
    where dates.date_day >= data_start.first_date
        and dates.date_day <= {{ business_date() }}

),

final as (

    select
        period_grain,
        period_start,
        {{ period_end('period_grain', 'period_start') }} as period_end,
        {{ from_business_time('cast(period_start as timestamp)') }} as period_start_at,
        {{ from_business_time('cast(' ~ period_end('period_grain', 'period_start') ~ ' as timestamp)') }} as period_end_at
    from periods

)

select * from final
