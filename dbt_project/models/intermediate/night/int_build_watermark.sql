{{
    config(
        materialized='incremental',
        unique_key='batch_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- One row per completed build: the night's batch and business date, and the calendar start
-- it was built with. It runs after every period-incremental model (and their tests) has
-- succeeded, so a night that failed anywhere leaves the watermark where it was and the next
-- night recomputes everything changed since the last completed one (int_changed_dates).
-- depends_on: {{ ref('int_customer_periods') }}
-- depends_on: {{ ref('int_member_period_measures') }}
-- depends_on: {{ ref('mart_recommendation') }}
-- depends_on: {{ ref('mart_repurchase') }}
-- depends_on: {{ ref('mart_churn') }}
-- depends_on: {{ ref('mart_complaints') }}
-- depends_on: {{ ref('mart_referrals') }}
-- depends_on: {{ ref('mart_membership') }}
select
    {{ batch_id() }} as batch_id,
    {{ business_date() }} as business_date,
    (select min(period_start) from {{ ref('int_periods') }} where period_grain = 'day') as calendar_start,
    {{ loaded_at() }} as built_at
