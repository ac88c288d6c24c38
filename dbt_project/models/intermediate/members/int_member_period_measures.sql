{{ config(materialized="table") }}
-- One row per period (grain, start) and membership measure contribution: members at the
-- start/end of the period, joins, cancellations, tier changes, points. Each row carries the
-- member's city and the tier in force at the moment it measures (at s, at e, or at the
-- event), so marts can sum any measure by segment. Points before the first period are kept
-- in points_net_amount of the first period (they count in points_outstanding only).
with

periods as (select * from {{ ref('int_periods') }}),

spells as (select * from {{ ref('dim_members') }}),

members as (

    select distinct member_id, customer_id, joined_at, cancelled_at, joined_date, cancelled_date
    from spells

),

customers as (select * from {{ ref('dim_customers') }}),

points as (

    select * from {{ ref('fct_points') }}
    where occurred_date <= {{ business_date() }}

),

first_periods as (

    select period_grain, min(period_start) as first_period_start
    from periods
    group by period_grain

),

stock_at_start as (

    select
        periods.period_grain, periods.period_start, members.member_id, spells.member_tier,
        'member_at_start' as measure, 1 as measure_value
    from periods
    inner join members
        on members.joined_at < periods.period_start_at
        and (members.cancelled_at is null or members.cancelled_at >= periods.period_start_at)
    inner join spells
        on spells.member_id = members.member_id
        and spells.valid_from <= periods.period_start_at
        and (spells.valid_to is null or spells.valid_to > periods.period_start_at)

),

stock_at_end as (

    select
        periods.period_grain, periods.period_start, members.member_id, spells.member_tier,
        'member_at_end' as measure, 1 as measure_value
    from periods
    inner join members
        on members.joined_at < periods.period_end_at
        and (members.cancelled_at is null or members.cancelled_at >= periods.period_end_at)
    inner join spells
        on spells.member_id = members.member_id
        and spells.valid_from <= periods.period_end_at
        and (spells.valid_to is null or spells.valid_to > periods.period_end_at)
    -- only what is known as of the business date
    where members.joined_date <= {{ business_date() }}

),

member_events as (

    -- joins: tier they joined with
    select spells.member_id, spells.member_tier, spells.joined_date as event_date,
        'joined' as measure, 1 as measure_value
    from spells
    where spells.tier_change = 'initial'

    union all

    -- cancellations: tier in force when cancelled
    select spells.member_id, spells.member_tier, spells.cancelled_date as event_date,
        'cancelled' as measure, 1 as measure_value
    from spells
    where spells.cancelled_at is not null
        and spells.valid_from <= spells.cancelled_at
        and (spells.valid_to is null or spells.valid_to > spells.cancelled_at)

    union all

    -- tier changes: the new tier
    select spells.member_id, spells.member_tier, {{ to_business_date('spells.valid_from') }} as event_date,
        spells.tier_change as measure, 1 as measure_value
    from spells
    where spells.tier_change in ('upgrade', 'downgrade')

),

point_events as (

    select points.member_id, spells.member_tier, points.occurred_date as event_date,
        'points' as measure, points.points as measure_value, points.points_reason
    from points
    left join spells
        on spells.member_id = points.member_id
        and spells.valid_from <= points.occurred_at
        and (spells.valid_to is null or spells.valid_to > points.occurred_at)

),

events_in_periods as (

    select periods.period_grain, periods.period_start, member_events.member_id, member_events.member_tier,
        member_events.measure, member_events.measure_value
    from member_events
    inner join periods
        on member_events.event_date >= periods.period_start
        and member_events.event_date < periods.period_end
    where member_events.event_date <= {{ business_date() }}

),

points_in_periods as (

    select
        grains.period_grain,
        case
            when {{ period_start('grains.period_grain', 'point_events.event_date') }} < first_periods.first_period_start
                then first_periods.first_period_start
            else {{ period_start('grains.period_grain', 'point_events.event_date') }}
        end as period_start,
        point_events.member_id,
        point_events.member_tier,
        point_events.event_date >= first_periods.first_period_start as is_in_period,
        point_events.points_reason,
        point_events.measure_value as points
    from point_events
    cross join {{ period_grains() }}
    inner join first_periods
        on grains.period_grain = first_periods.period_grain

),

unioned as (

    select period_grain, period_start, member_id, member_tier, measure, measure_value,
        cast(0 as bigint) as points_earned, cast(0 as bigint) as points_redeemed, cast(0 as bigint) as points_net
    from stock_at_start
    union all
    select period_grain, period_start, member_id, member_tier, measure, measure_value, 0, 0, 0
    from stock_at_end
    union all
    select period_grain, period_start, member_id, member_tier, measure, measure_value, 0, 0, 0
    from events_in_periods
    union all
    select period_grain, period_start, member_id, member_tier, 'points', 0,
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
        members.customer_id,
        coalesce(customers.city, 'unknown') as city,
        coalesce(unioned.member_tier, 'unknown') as member_tier,
        unioned.measure,
        unioned.measure_value,
        unioned.points_earned,
        unioned.points_redeemed,
        unioned.points_net
    from unioned
    left join members
        on unioned.member_id = members.member_id
    left join customers
        on members.customer_id = customers.customer_id

)

select * from final
