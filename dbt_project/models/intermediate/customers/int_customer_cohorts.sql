{{
    config(
        materialized='incremental',
        incremental_strategy='replace_changed',
        changed_customer_sources=['orders', 'customers'],
        on_schema_change='fail'
    )
}}
-- One row per customer with an order (any status) up to the business date: their cohort, the
-- business month of their first valid order ever (NULL while none is valid), that order's
-- channel (earliest ordered_at, then lowest order_id), whether the customer is known yet, their
-- current city, and the cohort they were in at the last completed build
-- (previous_cohort_month), so that mart_cohort_retention can recompute both cohorts of a
-- customer who moved (a refunded first order moves a customer to a later cohort).
-- Customer-incremental: an incremental night recomputes the customers whose orders or customer
-- record changed since the last completed build (int_changed_customers).
{#- the last completed build (int_build_watermark, this schema's bookkeeping table) -#}
{%- set watermark = build_watermark() %}
with

orders as (select * from {{ ref('fct_orders') }}),

customers as (select * from {{ ref('dim_customers') }}),

changed_customers as (select * from {{ ref('int_changed_customers') }}),

watermark as ({{ watermark_select(watermark) }}),

-- the orders of the customers this build computes (every customer on a full build)
customer_orders as (

    select * from orders
    where customer_id is not null
        and ordered_date <= {{ business_date() }}
        {%- if incremental_night() %}
        and customer_id in ({{ changed_customer_ids('changed_customers') }})
        {%- endif %}

),

computed_customers as (select distinct customer_id from customer_orders),

first_valid_orders as (

    select * from (
        select
            customer_id,
            order_id,
            channel,
            ordered_date,
            row_number() over (partition by customer_id order by ordered_at, order_id) as order_rank
        from customer_orders
        where is_valid
    ) as ranked
    where order_rank = 1

),

{% if incremental_night() %}
-- the cohort each recomputed customer was in at the last completed build: their row's cohort,
-- or, when a build since then (a failed night, or tonight's earlier run) already recomputed
-- the row, the previous cohort that row kept
previous_cohorts as (

    select
        this_rows.customer_id,
        case
            when this_rows._batch_id > watermark.batch_id then this_rows.previous_cohort_month
            else this_rows.cohort_month
        end as previous_cohort_month
    from {{ this }} as this_rows
    cross join watermark
    where this_rows.customer_id in (select customer_id from computed_customers)

),
{% else %}
previous_cohorts as (

    select
        cast(null as {{ dbt.type_bigint() }}) as customer_id,
        cast(null as date) as previous_cohort_month
    from watermark
    where 1 = 0

),
{% endif %}

final as (

    select
        computed_customers.customer_id,
        cast({{ dbt.date_trunc('month', 'cast(first_valid_orders.ordered_date as timestamp)') }} as date) as cohort_month,
        first_valid_orders.order_id as first_order_id,
        first_valid_orders.ordered_date as first_order_date,
        first_valid_orders.channel as first_order_channel,
        customers.customer_id is not null as is_known_customer,
        case when customers.customer_id is not null then coalesce(customers.city, 'unknown') end as city,
        previous_cohorts.previous_cohort_month,
        {{ batch_id() }} as _batch_id
    from computed_customers
    left join first_valid_orders
        on computed_customers.customer_id = first_valid_orders.customer_id
    left join customers
        on computed_customers.customer_id = customers.customer_id
    left join previous_cohorts
        on computed_customers.customer_id = previous_cohorts.customer_id

)

select * from final
