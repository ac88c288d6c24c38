{{
    config(
        materialized='incremental',
        incremental_strategy='replace_changed',
        dirty_sources=['memberships', 'points_ledger'],
        on_schema_change='fail'
    )
}}
-- One row per period (grain, start), member and membership event measure: joined,
-- cancelled, upgrade, downgrade (count 1) and points (earned, redeemed, net). Each row
-- carries the member's customer_id (marts join the current city) and the tier in force at
-- the event ('non_member' when no tier spell covers it, e.g. points before joining).
-- Points before the first period are kept in points_net of the first period (they count in
-- points_outstanding only). Members at s and at e: int_member_counts.
-- Period-incremental: an incremental night recomputes the dirty periods only.
with

all_periods as (select * from {{ ref('int_periods') }}),

dirty_periods as (select * from {{ ref('int_dirty_periods') }}),

spells as (select * from {{ ref('dim_members') }}),

points as (

    select * from {{ ref('fct_points') }}
    where occurred_date <= {{ business_date() }}

),

-- the periods this build computes: tonight's dirty ones for memberships and points (every
-- period on a full build)
periods as (

    select * from ({{ periods_flagged('all_periods', 'dirty_periods') }}) as flagged
    where is_dirty

),

first_periods as (

    select period_grain, min(period_start) as first_period_start
    from all_periods
    group by period_grain

),

member_events as (

    -- joins: tier they joined with
    select spells.member_id, spells.customer_id, spells.member_tier, spells.joined_date as event_date,
        'joined' as measure
    from spells
    where spells.tier_change = 'initial'

    union all

    -- cancellations: tier in force when cancelled
    select spells.member_id, spells.customer_id, spells.member_tier, spells.cancelled_date as event_date,
        'cancelled' as measure
    from spells
    where spells.cancelled_at is not null
        and spells.valid_from <= spells.cancelled_at
        and (spells.valid_to is null or spells.valid_to > spells.cancelled_at)

    union all

    -- tier changes: the new tier
    select spells.member_id, spells.customer_id, spells.member_tier,
        {{ to_business_date('spells.valid_from') }} as event_date, spells.tier_change as measure
    from spells
    where spells.tier_change in ('upgrade', 'downgrade')

),

-- equi-join on the period containing the date (one per grain), not a range join
events_in_periods as (

    select keyed.period_grain, keyed.period_start, keyed.member_id, keyed.customer_id,
        keyed.member_tier, keyed.measure
    from ({{ keyed_by_period('member_events', 'event_date', 'all_periods') }}) as keyed
    inner join periods
        on periods.period_grain = keyed.period_grain
        and periods.period_start = keyed.period_start
    where keyed.event_date <= {{ business_date() }}

),

point_events as (

    select points.member_id, spells.customer_id, spells.member_tier, points.occurred_date as event_date,
        points.points, points.points_reason
    from points
    left join spells
        on spells.member_id = points.member_id
        and spells.valid_from <= points.occurred_at
        and (spells.valid_to is null or spells.valid_to > points.occurred_at)

),

-- points before the first period count in points_net of the first period (they make up the
-- opening balance, is_in_period = false)
points_placed as (

    select keyed.period_grain, keyed.period_start, keyed.member_id, keyed.customer_id, keyed.member_tier,
        true as is_in_period, keyed.points_reason, keyed.points
    from ({{ keyed_by_period('point_events', 'event_date', 'all_periods') }}) as keyed

    union all

    select first_periods.period_grain, first_periods.first_period_start, point_events.member_id,
        point_events.customer_id, point_events.member_tier, false, point_events.points_reason, point_events.points
    from point_events
    inner join first_periods
        on point_events.event_date < first_periods.first_period_start

),

points_in_periods as (

    select points_placed.*
    from points_placed
    inner join periods
        on periods.period_grain = points_placed.period_grain
        and periods.period_start = points_placed.period_start

),

members as (select distinct member_id, customer_id from spells),

unioned as (

    select period_grain, period_start, member_id, customer_id, member_tier, measure,
        1 as measure_value,
        cast(0 as {{ dbt.type_bigint() }}) as points_earned,
        cast(0 as {{ dbt.type_bigint() }}) as points_redeemed,
        cast(0 as {{ dbt.type_bigint() }}) as points_net
    from events_in_periods

    union all

    select period_grain, period_start, member_id, customer_id, member_tier, 'points', 0,
        case when is_in_period and points > 0 then points else 0 end,
        case when is_in_period and points_reason = 'redeem' then -points else 0 end,
        points
    from points_in_periods

),

final as (

    select
        unioned.period_grain,
        unioned.period_start,
        unioned.member_id,
        coalesce(unioned.customer_id, members.customer_id) as customer_id,
        coalesce(unioned.member_tier, 'non_member') as member_tier,
        unioned.measure,
        unioned.measure_value,
        unioned.points_earned,
        unioned.points_redeemed,
        unioned.points_net,
        {{ batch_id() }} as _batch_id
    from unioned
    left join members
        on unioned.member_id = members.member_id

)

select * from final
