{{
    config(
        materialized='incremental',
        incremental_strategy='replace_periods',
        dirty_sources=['orders', 'memberships'],
        on_schema_change='fail'
    )
}}
-- One row per period (grain, start), customer and channel_key ('*' = any channel) where the
-- customer bought in the period (valid order in P) or churned in it (active at s, not
-- active at e). SPARSE: customers merely active at s and e without an order have no row;
-- counts of customers active at s come from int_active_customer_counts. Carries what
-- repurchase, churn, membership and referral marts count, plus membership and tier as of
-- the period start. No city: marts join the customer's current city.
-- Period-incremental: an incremental night recomputes the dirty periods only.
-- depends_on: {{ ref('int_dirty_periods') }}
with

periods as ({{ dirty_periods() }}),

islands as (select * from {{ ref('int_customer_activity_islands') }}),

-- the first day any period computed tonight starts on: nothing earlier can fall in one
computed_from as (select min(period_start) as first_date from periods),

orders as (

    select * from {{ ref('fct_orders') }}
    where is_valid
        and ordered_date <= {{ business_date() }}
        and ordered_date >= (select first_date from computed_from)

),

first_orders as (

    select customer_id, channel_key, min(first_order_date) as first_order_date
    from islands
    group by customer_id, channel_key

),

orders_keyed as (

    select customer_id, cast('*' as {{ dbt.type_string() }}) as channel_key, ordered_date, order_amount from orders
    union all
    select customer_id, channel as channel_key, ordered_date, order_amount from orders

),

-- equi-join on the period containing the date (one per grain), not a range join
ordered_in_period as (

    select keyed.period_grain, keyed.period_start, keyed.customer_id, keyed.channel_key,
        count(*) as valid_orders,
        cast(sum(keyed.order_amount) as {{ dbt.type_numeric() }}) as revenue_amount
    from ({{ keyed_by_period('orders_keyed', 'ordered_date') }}) as keyed
    inner join periods
        on periods.period_grain = keyed.period_grain
        and periods.period_start = keyed.period_start
    group by keyed.period_grain, keyed.period_start, keyed.customer_id, keyed.channel_key

),

islands_ending as (

    select * from islands
    where active_to_date >= (select first_date from computed_from)

),

-- churn candidates: an island covering s that ends inside P (active_to_date < e), found
-- through the period containing active_to_date
churn_candidates as (

    select keyed.period_grain, keyed.period_start, keyed.customer_id, keyed.channel_key,
        0 as valid_orders,
        cast(0 as {{ dbt.type_numeric() }}) as revenue_amount
    from ({{ keyed_by_period('islands_ending', 'active_to_date') }}) as keyed
    inner join periods
        on periods.period_grain = keyed.period_grain
        and periods.period_start = keyed.period_start
    where keyed.active_from_date <= periods.period_start
        and keyed.active_to_date >= periods.period_start

),

unioned as (

    select * from ordered_in_period
    union all
    select * from churn_candidates

),

keyed as (

    select
        period_grain,
        period_start,
        customer_id,
        channel_key,
        sum(valid_orders) as valid_orders,
        sum(revenue_amount) as revenue_amount
    from unioned
    group by period_grain, period_start, customer_id, channel_key

),

-- islands are disjoint per customer and channel_key: at most one covers a date
combined as (

    select
        keyed.period_grain,
        keyed.period_start,
        keyed.customer_id,
        keyed.channel_key,
        island_at_start.customer_id is not null as is_active_at_start,
        island_at_end.customer_id is not null as is_active_at_end,
        keyed.valid_orders,
        keyed.revenue_amount
    from keyed
    inner join periods
        on keyed.period_grain = periods.period_grain
        and keyed.period_start = periods.period_start
    left join islands as island_at_start
        on keyed.customer_id = island_at_start.customer_id
        and keyed.channel_key = island_at_start.channel_key
        and periods.period_start between island_at_start.active_from_date and island_at_start.active_to_date
    left join islands as island_at_end
        on keyed.customer_id = island_at_end.customer_id
        and keyed.channel_key = island_at_end.channel_key
        and periods.period_end between island_at_end.active_from_date and island_at_end.active_to_date

),

final as (

    select
        combined.period_grain,
        combined.period_start,
        periods.period_end,
        combined.customer_id,
        combined.channel_key,
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
        first_orders.first_order_date,
        {{ batch_id() }} as _batch_id
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
    {{ join_member_tier_at('tier_at_start', 'combined.customer_id', 'periods.period_start_at') }}

)

select * from final
