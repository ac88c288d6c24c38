{{
    config(
        materialized='incremental',
        incremental_strategy='replace_changed',
        changed_customer_sources=['orders'],
        on_schema_change='fail'
    )
}}
-- One row per customer, channel_key and activity island. A customer is active at t when
-- they have a valid order in [t - active_days, t): on dates, active on
-- (order_date, order_date + active_days]. Orders less than active_days apart chain into one
-- island, so "active at t" <=> active_from_date <= t <= active_to_date for exactly one island.
-- channel_key '*' = any channel; otherwise the order channel (for channel segments).
-- Customer-incremental: an incremental night recomputes the customers whose orders changed.
with

fct_orders as (select * from {{ ref('fct_orders') }}),

changed_customers as (select * from {{ ref('int_changed_customers') }}),

orders as (

    select * from fct_orders
    where is_valid
        and ordered_date <= {{ business_date() }}
        {%- if incremental_night() %}
        and customer_id in ({{ changed_customer_ids('changed_customers') }})
        {%- endif %}

),

order_days as (

    select distinct customer_id, cast('*' as {{ dbt.type_string() }}) as channel_key, ordered_date from orders
    union
    select distinct customer_id, channel as channel_key, ordered_date from orders

),

gaps as (

    select
        customer_id,
        channel_key,
        ordered_date,
        case
            when lag(ordered_date) over (partition by customer_id, channel_key order by ordered_date) is null then 1
            when {{ dbt.datediff('lag(ordered_date) over (partition by customer_id, channel_key order by ordered_date)',
                                 'ordered_date', 'day') }} > {{ var('active_days') }} then 1
            else 0
        end as is_island_start
    from order_days

),

numbered as (

    select
        *,
        sum(is_island_start) over (
            partition by customer_id, channel_key order by ordered_date
            rows between unbounded preceding and current row
        ) as island_number
    from gaps

),

islands as (

    select
        customer_id,
        channel_key,
        island_number,
        min(ordered_date) as first_order_date,
        max(ordered_date) as last_order_date
    from numbered
    group by customer_id, channel_key, island_number

),

final as (

    select
        customer_id,
        channel_key,
        island_number,
        first_order_date,
        last_order_date,
        cast({{ dbt.dateadd('day', 1, 'first_order_date') }} as date) as active_from_date,
        cast({{ dbt.dateadd('day', var('active_days'), 'last_order_date') }} as date) as active_to_date
    from islands

)

select * from final
