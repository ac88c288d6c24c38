{{ config(materialized="table") }}
-- One row per period (grain, start), customer and channel_key ('*' = any channel) where the
-- customer is active at the start, active at the end, or bought in the period. Carries
-- what repurchase, churn, membership and referral marts count, plus the customer's
-- segment attributes (city; membership and tier as of the period start).
with

periods as (select * from {{ ref('int_periods') }}),

islands as (select * from {{ ref('int_customer_activity_islands') }}),

orders as (

    select * from {{ ref('fct_orders') }}
    where is_valid
        and ordered_date <= {{ business_date() }}

),

customers as (select * from {{ ref('dim_customers') }}),

first_orders as (

    select customer_id, channel_key, min(first_order_date) as first_order_date
    from islands
    group by customer_id, channel_key

),

active_at_start as (

    select periods.period_grain, periods.period_start, islands.customer_id, islands.channel_key,
        1 as is_active_at_start, 0 as is_active_at_end, 0 as valid_orders,
        cast(0 as {{ dbt.type_numeric() }}) as revenue_amount
    from periods
    inner join islands
        on periods.period_start between islands.active_from_date and islands.active_to_date

),

active_at_end as (

    select periods.period_grain, periods.period_start, islands.customer_id, islands.channel_key,
        0 as is_active_at_start, 1 as is_active_at_end, 0 as valid_orders,
        cast(0 as {{ dbt.type_numeric() }}) as revenue_amount
    from periods
    inner join islands
        on periods.period_end between islands.active_from_date and islands.active_to_date

),

orders_keyed as (

    select customer_id, cast('*' as {{ dbt.type_string() }}) as channel_key, ordered_date, order_amount from orders
    union all
    select customer_id, channel as channel_key, ordered_date, order_amount from orders

),

ordered_in_period as (

    select periods.period_grain, periods.period_start, orders_keyed.customer_id, orders_keyed.channel_key,
        0 as is_active_at_start, 0 as is_active_at_end, count(*) as valid_orders,
        cast(sum(orders_keyed.order_amount) as {{ dbt.type_numeric() }}) as revenue_amount
    from orders_keyed
    inner join periods
        on orders_keyed.ordered_date >= periods.period_start
        and orders_keyed.ordered_date < periods.period_end
    group by periods.period_grain, periods.period_start, orders_keyed.customer_id, orders_keyed.channel_key

),

unioned as (

    select * from active_at_start
    union all
    select * from active_at_end
    union all
    select * from ordered_in_period

),

combined as (

    select
        period_grain,
        period_start,
        customer_id,
        channel_key,
        max(is_active_at_start) = 1 as is_active_at_start,
        max(is_active_at_end) = 1 as is_active_at_end,
        sum(valid_orders) as valid_orders,
        sum(revenue_amount) as revenue_amount
    from unioned
    group by period_grain, period_start, customer_id, channel_key

),

final as (

    select
        combined.period_grain,
        combined.period_start,
        periods.period_end,
        combined.customer_id,
        combined.channel_key,
        coalesce(customers.city, 'unknown') as city,
        combined.is_active_at_start,
        combined.is_active_at_end,
        combined.valid_orders > 0 as has_valid_order,
        combined.is_active_at_start and combined.valid_orders > 0 as is_repurchaser,
        combined.is_active_at_start and not combined.is_active_at_end as is_churned,
        -- new buyer: the first valid order ever (any channel) falls in the period
        first_orders_any.first_order_date >= combined.period_start
            and first_orders_any.first_order_date < periods.period_end as is_new_buyer,
        not combined.is_active_at_start
            and combined.valid_orders > 0
            and first_orders.first_order_date
                < cast({{ dbt.dateadd('day', -1 * var('active_days'), 'combined.period_start') }} as date)
            as is_reactivated,
        tier_at_start.member_id is not null as is_member_at_start,
        coalesce(tier_at_start.member_tier, 'non_member') as member_tier_at_start,
        combined.valid_orders,
        combined.revenue_amount,
        first_orders.first_order_date
    from combined
    inner join periods
        on combined.period_grain = periods.period_grain
        and combined.period_start = periods.period_start
    left join first_orders
        on combined.customer_id = first_orders.customer_id
        and combined.channel_key = first_orders.channel_key
    left join first_orders as first_orders_any
        on combined.customer_id = first_orders_any.customer_id
        and first_orders_any.channel_key = '*'
    left join customers
        on combined.customer_id = customers.customer_id
    {{ join_member_tier_at('tier_at_start', 'combined.customer_id', 'periods.period_start_at') }}

)

select * from final
