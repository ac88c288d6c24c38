{{
    config(
        materialized='incremental',
        incremental_strategy='replace_changed',
        dirty_sources=[],
        changed_customer_sources=['orders', 'memberships'],
        on_schema_change='fail'
    )
}}
-- The rows of int_customer_periods: one per period (grain, start), customer and channel_key
-- ('*' = any channel) where the customer bought in the period (valid order in P) or may have
-- churned in it (an activity island covering s ends inside P), with the valid orders and
-- revenue in P. int_customer_periods adds the flags (active at s and e, repurchase, churn,
-- new, reactivated, tier at s). A model of its own so that the build runs in bounded memory:
-- this aggregate and the joins int_customer_periods makes on its result, in one statement,
-- need more than 3.2 GiB on the large demo (DECISIONLOG).
-- Customer-incremental as int_customer_periods (the same config): an incremental night
-- recomputes every period of the changed customers (int_changed_customers) and the periods
-- still open at the last build for everyone.
with

all_periods as (select * from {{ ref('int_periods') }}),

dirty_periods as (select * from {{ ref('int_dirty_periods') }}),

changed_customers as (select * from {{ ref('int_changed_customers') }}),

all_islands as (select * from {{ ref('int_customer_activity_islands') }}),

valid_orders as (

    select * from {{ ref('fct_orders') }}
    where is_valid
        and ordered_date <= {{ business_date() }}

),

-- every period, is_dirty when this build recomputes it for everyone (dirty_sources=[]: only
-- the periods still open at the last build, 'calendar')
periods as ({{ periods_flagged('all_periods', 'dirty_periods') }}),

{% if incremental_night() %}
changed as ({{ changed_customer_ids('changed_customers') }}),

-- the first day of the periods recomputed for everyone: nothing earlier falls in one
computed_from as (select min(period_start) as first_date from periods where is_dirty),

orders as (

    select * from valid_orders
    where ordered_date >= (select first_date from computed_from)
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
orders as (select * from valid_orders),

islands as (select * from all_islands),
{% endif %}

orders_keyed as (

    select customer_id, cast('*' as {{ dbt.type_string() }}) as channel_key, ordered_date, order_amount from orders
    union all
    select customer_id, channel as channel_key, ordered_date, order_amount from orders

),

-- every valid order once per grain, in the period containing its date (an equi-join on the
-- date, not a range join)
orders_in_periods as (

    select keyed.period_grain, keyed.period_start, keyed.customer_id, keyed.channel_key,
        cast(1 as {{ dbt.type_bigint() }}) as valid_orders,
        cast(keyed.order_amount as {{ dbt.type_numeric() }}) as revenue_amount
    from ({{ keyed_by_period('orders_keyed', 'ordered_date', 'periods') }}) as keyed
    inner join periods
        on periods.period_grain = keyed.period_grain
        and periods.period_start = keyed.period_start

),

-- churn candidates: an island covering s that ends inside P (active_to_date < e), found
-- through the period containing active_to_date
churn_candidates as (

    select keyed.period_grain, keyed.period_start, keyed.customer_id, keyed.channel_key,
        0 as valid_orders,
        cast(0 as {{ dbt.type_numeric() }}) as revenue_amount
    from ({{ keyed_by_period('islands', 'active_to_date', 'periods') }}) as keyed
    inner join periods
        on periods.period_grain = keyed.period_grain
        and periods.period_start = keyed.period_start
    where keyed.active_from_date <= periods.period_start
        and keyed.active_to_date >= periods.period_start

),

unioned as (

    select * from orders_in_periods
    union all
    select * from churn_candidates

),

-- one aggregate: the orders counted and summed, a churn candidate adding nothing (one
-- hash table over every key, where an aggregate of the orders first needs two)
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

final as (

    select
        keyed.period_grain,
        keyed.period_start,
        keyed.customer_id,
        keyed.channel_key,
        keyed.valid_orders,
        keyed.revenue_amount,
        {{ batch_id() }} as _batch_id
    from keyed
    inner join periods
        on keyed.period_grain = periods.period_grain
        and keyed.period_start = periods.period_start
    {%- if incremental_night() %}
    where periods.is_dirty
        or keyed.customer_id in (select customer_id from changed)
    {%- endif %}

)

select * from final
