{{
    config(
        materialized='incremental',
        incremental_strategy='replace_changed',
        replace_keys={'int_dirty_cohorts': ['cohort_month']},
        on_schema_change='fail'
    )
}}
-- One row per cohort_month, months_since_first, segment_type ('all', 'channel', 'city') and
-- segment_value (老客留存, 客户生命周期价值). A cohort is the customers whose first valid order
-- ever falls in cohort_month; channel = the channel of that first order; city = the customer's
-- current city (customers not yet known count in 'all' and channel only). Every month from
-- the cohort month to the month holding the business date has a row.
-- Incremental: a night recomputes the cohorts of int_dirty_cohorts (those of the customers
-- whose orders or customer record changed, before and after; every cohort when a new month
-- starts) and replaces exactly their rows.
with

customer_cohorts as (select * from {{ ref('int_customer_cohorts') }}),

dirty_cohorts as (select * from {{ ref('int_dirty_cohorts') }}),

orders as (

    select * from {{ ref('fct_orders') }}
    where is_valid
        and ordered_date <= {{ business_date() }}

),

all_periods as (select * from {{ ref('int_periods') }}),

-- the customers of the cohorts this build recomputes (every cohort on a full build)
cohort_members as (

    select customer_cohorts.*
    from customer_cohorts
    inner join dirty_cohorts
        on customer_cohorts.cohort_month = dirty_cohorts.cohort_month

),

-- each member's segments: 'all', the channel of their first valid order, and their city
-- when the customer is known
member_segments as (

    select
        customer_id,
        cohort_month,
        cast('all' as {{ dbt.type_string() }}) as segment_type,
        cast('all' as {{ dbt.type_string() }}) as segment_value
    from cohort_members

    union all

    select customer_id, cohort_month, 'channel', first_order_channel
    from cohort_members

    union all

    select customer_id, cohort_month, 'city', city
    from cohort_members
    where is_known_customer

),

cohort_sizes as (

    select cohort_month, segment_type, segment_value, count(*) as cohort_customers
    from member_segments
    group by cohort_month, segment_type, segment_value

),

-- each member's valid orders (any channel) per business month
member_months as (

    select
        orders.customer_id,
        cast({{ dbt.date_trunc('month', 'cast(orders.ordered_date as timestamp)') }} as date) as activity_month,
        sum(orders.order_amount) as revenue_amount
    from orders
    inner join cohort_members
        on orders.customer_id = cohort_members.customer_id
    group by
        orders.customer_id,
        cast({{ dbt.date_trunc('month', 'cast(orders.ordered_date as timestamp)') }} as date)

),

activity as (

    select
        member_segments.cohort_month,
        member_segments.segment_type,
        member_segments.segment_value,
        member_months.activity_month,
        count(*) as active_customers,
        sum(member_months.revenue_amount) as revenue
    from member_months
    inner join member_segments
        on member_months.customer_id = member_segments.customer_id
    group by
        member_segments.cohort_month,
        member_segments.segment_type,
        member_segments.segment_value,
        member_months.activity_month

),

-- every month of the calendar up to the one holding the business date
months as (

    select period_start as activity_month
    from all_periods
    where period_grain = 'month'

),

-- every month of every cohort and segment, from the cohort month on
grid as (

    select
        cohort_sizes.cohort_month,
        cohort_sizes.segment_type,
        cohort_sizes.segment_value,
        cohort_sizes.cohort_customers,
        months.activity_month
    from cohort_sizes
    inner join months
        on months.activity_month >= cohort_sizes.cohort_month

),

filled as (

    select
        grid.cohort_month,
        {{ dbt.datediff('grid.cohort_month', 'grid.activity_month', 'month') }} as months_since_first,
        grid.segment_type,
        grid.segment_value,
        grid.activity_month,
        grid.cohort_customers,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.revenue, 0) as revenue
    from grid
    left join activity
        on grid.cohort_month = activity.cohort_month
        and grid.segment_type = activity.segment_type
        and grid.segment_value = activity.segment_value
        and grid.activity_month = activity.activity_month

),

-- the cohort's revenue of months 0..k
cumulative as (

    select
        *,
        sum(revenue) over (
            partition by cohort_month, segment_type, segment_value
            order by activity_month
            rows between unbounded preceding and current row
        ) as cumulative_revenue
    from filled

),

final as (

    select
        cast(cohort_month as date) as cohort_month,
        cast(months_since_first as integer) as months_since_first,
        cast(segment_type as {{ type_varchar() }}) as segment_type,
        cast(segment_value as {{ type_varchar() }}) as segment_value,
        cast(activity_month as date) as activity_month,
        {{ bigints(['cohort_customers', 'active_customers']) }},
        cast({{ safe_divide('active_customers', 'cohort_customers') }} as numeric(18, 6)) as retention_rate,
        cast(revenue as numeric(18, 2)) as revenue,
        cast(cumulative_revenue as numeric(18, 2)) as cumulative_revenue,
        cast({{ safe_divide('cumulative_revenue', 'cohort_customers') }} as numeric(18, 6)) as cumulative_revenue_per_customer,
        activity_month < cast({{ dbt.date_trunc('month', 'cast(' ~ business_date() ~ ' as timestamp)') }} as date)
            as is_complete_month,
        {{ mart_metadata() }}
    from cumulative

)

select * from final
