{{
    config(
        materialized='incremental',
        incremental_strategy='replace_changed',
        dirty_sources=[],
        changed_customer_sources=['orders', 'memberships'],
        on_schema_change='fail'
    )
}}
-- One row per period (grain, start), customer and channel_key ('*' = any channel) where the
-- customer bought in the period (valid order in P) or churned in it (active at s, not
-- active at e). SPARSE: customers merely active at s and e without an order have no row;
-- counts of customers active at s come from int_active_customer_counts. Carries what
-- repurchase, churn, membership and referral marts count, plus membership and tier as of
-- the period start. No city: marts join the customer's current city.
-- The rows and their orders and revenue come from int_customer_period_keys (a model of its
-- own, so that the build runs in bounded memory; DECISIONLOG).
-- Customer-incremental: a customer's rows depend on their own orders and membership only,
-- so an incremental night recomputes every period of the changed customers
-- (int_changed_customers) and the periods still open at the last build for everyone.
with

all_periods as (select * from {{ ref('int_periods') }}),

dirty_periods as (select * from {{ ref('int_dirty_periods') }}),

changed_customers as (select * from {{ ref('int_changed_customers') }}),

all_islands as (select * from {{ ref('int_customer_activity_islands') }}),

all_keys as (select * from {{ ref('int_customer_period_keys') }}),

members as (select * from {{ ref('dim_members') }}),

-- every period, is_dirty when this build recomputes it for everyone (dirty_sources=[]: only
-- the periods still open at the last build, 'calendar')
periods as ({{ periods_flagged('all_periods', 'dirty_periods') }}),

{% if incremental_night() %}
changed as ({{ changed_customer_ids('changed_customers') }}),

-- the first day of the periods recomputed for everyone: nothing earlier falls in one
computed_from as (select min(period_start) as first_date from periods where is_dirty),

-- the rows this build recomputes (the keys model recomputed them first), and a few more:
-- final keeps those of the dirty periods and the changed customers
keyed as (

    select * from all_keys
    where period_start >= (select first_date from computed_from)
        or customer_id in (select customer_id from changed)

),

-- the islands a computed row can look at: all of a changed customer's, and for everyone
-- else those that reach into the recomputed periods
islands as (

    select * from all_islands
    where active_to_date >= (select first_date from computed_from)
        or customer_id in (select customer_id from changed)

),
{% else %}
keyed as (select * from all_keys),

islands as (select * from all_islands),
{% endif %}

-- first orders from every island (a customer's first one may be long before the periods)
first_orders as (

    select customer_id, channel_key, min(first_order_date) as first_order_date
    from all_islands
    group by customer_id, channel_key

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
    {{ join_member_tier_at('members', 'tier_at_start', 'combined.customer_id', 'periods.period_start_at') }}
    {%- if incremental_night() %}
    where periods.is_dirty
        or combined.customer_id in (select customer_id from changed)
    {%- endif %}

)

select * from final
