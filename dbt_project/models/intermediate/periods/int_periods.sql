{{ config(materialized="table") }}
-- One row per period_grain ('day','week','month') and period_start: every period from the
-- first dated event (order, survey, ticket, membership, referral, points, care touch) up to
-- and including the one containing the
-- business date. period_end is exclusive; *_at are the boundaries in UTC.
with

dates as (select * from {{ ref('dim_date') }}),

-- the calendar starts at the earliest event any mart counts (memberships can be older than
-- the order history, e.g. members who joined before the shop's current system)
event_dates as (

    select min(ordered_date) as first_date from {{ ref('fct_orders') }}
    union all
    select min(submitted_date) from {{ ref('fct_survey_responses') }}
    union all
    select min(created_date) from {{ ref('fct_tickets') }}
    union all
    select min(joined_date) from {{ ref('dim_members') }}
    union all
    select min(cancelled_date) from {{ ref('dim_members') }}
    union all
    select min(invited_date) from {{ ref('fct_referrals') }}
    union all
    select min(occurred_date) from {{ ref('fct_points') }}
    union all
    select min(touched_date) from {{ ref('fct_care_touches') }}

),

data_start as (

    select coalesce(min(first_date), {{ business_date() }}) as first_date
    from event_dates
    where first_date <= {{ business_date() }}

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
