{{ config(materialized='table') }}
-- The customers whose own history changed since the last completed build, per source table:
-- a changed order (any version's customer_id), membership, customer record, or referral they
-- made (any version's referrer). Customer-incremental models (int_customer_activity_islands,
-- int_customer_periods, int_customer_cohorts) recompute these customers' rows, each for the
-- source tables it reads (config changed_customer_sources).
-- Every customer when there is no completed build to start from (first run, --full-refresh)
-- or int_changed_dates says 'everything'. See int_changed_dates for what "changed" means.
{#- the landed raw versions (every batch) of the source tables; changed_versions scans each
    twice, so they are passed as relations (the engine pushes its filters into each scan) -#}
{%- set landed_orders = source('shop', 'orders') %}
{%- set landed_memberships = source('shop', 'memberships') %}
{%- set landed_customers = source('shop', 'customers') %}
{%- set landed_referrals = source('shop', 'referrals') %}
{#- the last completed build (int_build_watermark, this schema's bookkeeping table) -#}
{%- set watermark = build_watermark() %}
with

changed_dates as (select * from {{ ref('int_changed_dates') }}),

watermark as ({{ watermark_select(watermark) }}),

{% if watermark is not none %}
everything as (select count(*) as n from changed_dates where change_kind = 'everything'),

changed as (

    select 'orders' as source_table, customer_id
    from ({{ changed_versions(landed_orders, 'order_id') }}) as orders

    union

    select 'memberships', customer_id
    from ({{ changed_versions(landed_memberships, 'member_id') }}) as memberships

    union

    select 'customers', customer_id
    from ({{ changed_versions(landed_customers, 'customer_id') }}) as customers

    union

    select 'referrals', referrer_customer_id
    from ({{ changed_versions(landed_referrals, 'referral_id') }}) as referrals

    union

    select 'orders', customer_id from {{ landed_orders }}
    where {{ batch_filter() }} and (select n from everything) > 0

    union

    select 'memberships', customer_id from {{ landed_memberships }}
    where {{ batch_filter() }} and (select n from everything) > 0

    union

    select 'customers', customer_id from {{ landed_customers }}
    where {{ batch_filter() }} and (select n from everything) > 0

    union

    select 'referrals', referrer_customer_id from {{ landed_referrals }}
    where {{ batch_filter() }} and (select n from everything) > 0

)
{% else %}
changed as (

    select 'orders' as source_table, customer_id from {{ landed_orders }}
    where {{ batch_filter() }}
    union
    select 'memberships', customer_id from {{ landed_memberships }}
    where {{ batch_filter() }}
    union
    select 'customers', customer_id from {{ landed_customers }}
    where {{ batch_filter() }}
    union
    select 'referrals', referrer_customer_id from {{ landed_referrals }}
    where {{ batch_filter() }}

)
{% endif %}

select
    cast(source_table as {{ dbt.type_string() }}) as source_table,
    cast(customer_id as {{ dbt.type_bigint() }}) as customer_id
from changed
where customer_id is not null
