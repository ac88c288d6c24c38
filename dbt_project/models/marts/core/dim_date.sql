-- One row per calendar day, from the first day any source mentions up to the business date.
with

orders as (select min(ordered_date) as first_date from {{ ref('stg_shop__orders') }}),
customers as (select min(registered_date) as first_date from {{ ref('stg_shop__customers') }}),
memberships as (select min(joined_date) as first_date from {{ ref('stg_shop__memberships') }}),
surveys as (select min(submitted_date) as first_date from {{ ref('stg_surveys__survey_responses') }}),
tickets as (select min(created_date) as first_date from {{ ref('stg_tickets__tickets') }}),

bounds as (

    select
        coalesce(
            least(
                coalesce(orders.first_date, {{ business_date() }}),
                coalesce(customers.first_date, {{ business_date() }}),
                coalesce(memberships.first_date, {{ business_date() }}),
                coalesce(surveys.first_date, {{ business_date() }}),
                coalesce(tickets.first_date, {{ business_date() }})
            ),
            {{ business_date() }}
        ) as first_date,
        {{ business_date() }} as last_date
    from orders
    cross join customers
    cross join memberships
    cross join surveys
    cross join tickets

),

digits as (

    select digit from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d (digit)

),

numbers as (

    -- 0 .. 99,999 days (274 years) without any engine-specific generator
    select d1.digit + 10 * d2.digit + 100 * d3.digit + 1000 * d4.digit + 10000 * d5.digit as day_offset
    from digits as d1
    cross join digits as d2
    cross join digits as d3
    cross join digits as d4
    cross join digits as d5

),

days as (

    select cast({{ dbt.dateadd('day', 'numbers.day_offset', 'bounds.first_date') }} as date) as date_day
    from numbers
    cross join bounds
    where numbers.day_offset <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }}

),

final as (

    select
        date_day,
        cast({{ dbt.date_trunc('week', 'cast(date_day as timestamp)') }} as date) as week_start_date,
        cast({{ dbt.date_trunc('month', 'cast(date_day as timestamp)') }} as date) as month_start_date,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast(extract(day from date_day) as integer) as day_of_month,
        -- ISO day of week, Monday = 1
        cast({{ iso_day_of_week("date_day") }} as integer) as day_of_week,
        date_day = {{ business_date() }} as is_business_date
    from days

)

select * from final
