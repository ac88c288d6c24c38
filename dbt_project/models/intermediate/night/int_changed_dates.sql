{{ config(materialized='table') }}
-- What changed since the last completed build, as business dates: one row per source
-- table, kind and date. Period-incremental models recompute the periods these dates can
-- alter (int_dirty_periods):
--   'from' <date>   every period ending after <date> (the change propagates forward: the
--                   180-day activity window, first orders, tier spells, points balances);
--   'on' <date>     the periods containing <date> (a survey answer, a ticket, a referral
--                   cohort: they count in the periods of their own dates only);
--   'everything'    every period (no completed build yet, --full-refresh, the calendar
--                   start moved, or the night is older than the last completed one).
-- "Changed" = any key with a raw version landed after the last completed build's batch
-- (int_build_watermark), or in tonight's (so a re-run re-applies it); the dates of every
-- version of such a key count (old and new values alike). City is not
-- here: marts recompute every city row every night (a customer's city is the current one).
{#- the landed raw versions (every batch) of each source table; changed_versions scans each
    twice, so they are passed as relations (the engine pushes its filters into each scan) -#}
{%- set landed_orders = source('shop', 'orders') %}
{%- set landed_memberships = source('shop', 'memberships') %}
{%- set landed_points = source('shop', 'points_ledger') %}
{%- set landed_referrals = source('shop', 'referrals') %}
{%- set landed_customers = source('shop', 'customers') %}
{%- set landed_responses = source('surveys', 'survey_responses') %}
{%- set landed_tickets = source('tickets', 'tickets') %}
{#- the last completed build (int_build_watermark, this schema's bookkeeping table) -#}
{%- set watermark = build_watermark() %}
{%- set incremental_night = watermark is not none %}
with

all_periods as (select * from {{ ref('int_periods') }}),

orders as (select * from {{ ref('fct_orders') }}),

referrals as (select * from {{ ref('fct_referrals') }}),

watermark as ({{ watermark_select(watermark) }}),

calendar as (

    select min(period_start) as calendar_start
    from all_periods
    where period_grain = 'day'

),


{% if incremental_night %}
changed_orders as ({{ changed_versions(landed_orders, 'order_id') }}),

changed_memberships as (

    select
        versions.*,
        (versions._batch_id > watermark.batch_id or versions._batch_id = '{{ batch_id_str() }}') as is_new_version
    from ({{ changed_versions(landed_memberships, 'member_id') }}) as versions
    cross join watermark

),

-- per changed membership: did joined_at / cancelled_at change (a new membership: joined)
membership_changes as (

    select
        member_id,
        count(distinct joined_at) > 1
            or sum(case when is_new_version then 0 else 1 end) = 0 as joined_changed,
        count(distinct coalesce(cancelled_at, cast('9999-12-31' as timestamp))) > 1 as cancelled_changed
    from changed_memberships
    group by member_id

),

changed_points as ({{ changed_versions(landed_points, 'entry_id') }}),

changed_referrals as ({{ changed_versions(landed_referrals, 'referral_id') }}),

changed_customers as ({{ changed_versions(landed_customers, 'customer_id') }}),

changed_responses as ({{ changed_versions(landed_responses, 'response_id') }}),

changed_tickets as ({{ changed_versions(landed_tickets, 'ticket_id') }}),

dates as (

    -- orders: revenue and counts of their own period, activity for active_days after it,
    -- first orders and reactivation later on
    select 'orders' as source_table, 'from' as change_kind,
        {{ to_business_date('ordered_at') }} as change_date
    from changed_orders

    union all

    -- memberships: a new version is a tier observation from its updated_at on; joined_at
    -- and cancelled_at count where they changed (or the membership is new): membership
    -- (and the first tier) from then on
    select 'memberships', 'from', {{ to_business_date('updated_at') }} from changed_memberships
    where is_new_version
    union all
    select 'memberships', 'from', {{ to_business_date('changed_memberships.joined_at') }}
    from changed_memberships
    inner join membership_changes
        on changed_memberships.member_id = membership_changes.member_id
    where membership_changes.joined_changed
    union all
    select 'memberships', 'from', {{ to_business_date('changed_memberships.cancelled_at') }}
    from changed_memberships
    inner join membership_changes
        on changed_memberships.member_id = membership_changes.member_id
    where membership_changes.cancelled_changed
        and changed_memberships.cancelled_at is not null

    union all

    -- points: earned/redeemed in their period, the outstanding balance from then on
    select 'points_ledger', 'from', {{ to_business_date('occurred_at') }} from changed_points

    union all

    -- referrals: the invite cohort and the reward date; the referee's orders count as
    -- referred revenue of whichever converted referral brought them in
    select 'referrals', 'on', {{ to_business_date('invited_at') }} from changed_referrals
    union all
    select 'referrals', 'on', {{ to_business_date('rewarded_at') }} from changed_referrals
    where rewarded_at is not null
    union all
    select 'referrals', 'on', orders.ordered_date
    from orders
    where orders.customer_id in (
        select referee_customer_id from changed_referrals where referee_customer_id is not null
    )

    union all

    -- customers: a changed phone or email can make the referrals they took part in suspicious
    select 'customers', 'on', referrals.invited_date
    from referrals
    where referrals.referrer_customer_id in (select customer_id from changed_customers)
        or referrals.referee_customer_id in (select customer_id from changed_customers)

    union all

    -- survey answers count in the period they were submitted in
    select 'survey_responses', 'on', {{ to_business_date('submitted_at') }} from changed_responses

    union all

    -- tickets: created in, resolved in
    select 'tickets', 'on', {{ to_business_date('created_at') }} from changed_tickets
    union all
    select 'tickets', 'on', {{ to_business_date('resolved_at') }} from changed_tickets
    where resolved_at is not null

    union all

    -- the periods that were still open (or did not exist) at the last completed build
    select 'calendar', 'from', watermark.business_date from watermark

),

everything as (

    select
        case
            when calendar.calendar_start <> watermark.calendar_start then 'the calendar start moved'
            when watermark.business_date > {{ business_date() }} then 'the night is older than the last completed build'
        end as reason
    from watermark
    cross join calendar

),

final as (

    select source_table, change_kind, change_date, count(*) as changed_rows
    from dates
    where change_date is not null
    group by source_table, change_kind, change_date

    union all

    select reason, 'everything', cast(null as date), cast(0 as {{ dbt.type_bigint() }})
    from everything
    where reason is not null

)
{% else %}
final as (

    select
        cast('{{ "--full-refresh" if flags.FULL_REFRESH else "no completed build yet" }}' as {{ dbt.type_string() }}) as source_table,
        cast('everything' as {{ dbt.type_string() }}) as change_kind,
        cast(null as date) as change_date,
        cast(0 as {{ dbt.type_bigint() }}) as changed_rows
    from calendar

)
{% endif %}

select
    cast(source_table as {{ dbt.type_string() }}) as source_table,
    cast(change_kind as {{ dbt.type_string() }}) as change_kind,
    cast(change_date as date) as change_date,
    cast(changed_rows as {{ dbt.type_bigint() }}) as changed_rows,
    {{ batch_id() }} as _batch_id
from final
