{{
    config(
        materialized='incremental',
        incremental_strategy='replace_changed',
        dirty_sources=['orders', 'memberships'],
        replace_city_rows=true,
        on_schema_change='fail'
    )
}}
-- One row per period_grain, period_start, segment_type and segment_value.
-- Customer churn by order channel, customer city and member tier as of s; member churn
-- (members_*) by city and tier as of s, NULL in channel rows (orders have channels,
-- memberships do not).
-- Period-incremental: an incremental night recomputes the dirty periods, and the city rows
-- of every period (the customer's current city).
-- depends_on: {{ ref('int_dirty_periods') }}
with

periods as ({{ periods_flagged() }}),

customer_periods as ({{ customer_periods_located('periods') }}),

active_counts as ({{ active_counts_flagged('periods') }}),

customers as (select * from {{ ref('dim_customers') }}),

-- members at s (int_member_counts) and cancellations in P (int_member_period_measures)
member_measures as (

    select
        member_counts.period_grain,
        member_counts.period_start,
        member_counts.city,
        member_counts.member_tier,
        member_counts.members_at_start,
        0 as members_cancelled,
        periods.is_dirty
    from {{ ref('int_member_counts') }} as member_counts
    inner join periods
        on member_counts.period_grain = periods.period_grain
        and member_counts.period_start = periods.period_start

    union all

    select
        measures.period_grain,
        measures.period_start,
        coalesce(customers.city, 'unknown'),
        measures.member_tier,
        0,
        measures.measure_value,
        periods.is_dirty
    from {{ ref('int_member_period_measures') }} as measures
    inner join periods
        on measures.period_grain = periods.period_grain
        and measures.period_start = periods.period_start
    left join customers
        on measures.customer_id = customers.customer_id
    where measures.measure = 'cancelled'

),

customers_segmented as (

    select
        customer_periods.*,
        segment_types.segment_type,
        case segment_types.segment_type
            when 'all' then 'all'
            when 'channel' then customer_periods.channel_key
            when 'city' then customer_periods.city
            when 'member_tier' then customer_periods.member_tier_at_start
        end as segment_value
    from customer_periods
    cross join {{ segment_types(['all', 'channel', 'city', 'member_tier']) }}
    where (segment_types.segment_type = 'channel') = (customer_periods.channel_key <> '*')
        and {{ computed_tonight('customer_periods.is_dirty', 'segment_types.segment_type') }}

),

-- customers active at s: from the counts ('all', city, tier rows use channel_key '*')
active_segmented as (

    select
        active_counts.period_grain,
        active_counts.period_start,
        segment_types.segment_type,
        case segment_types.segment_type
            when 'all' then 'all'
            when 'channel' then active_counts.channel_key
            when 'city' then active_counts.city
            when 'member_tier' then active_counts.member_tier
        end as segment_value,
        active_counts.active_customers_at_start
    from active_counts
    cross join {{ segment_types(['all', 'channel', 'city', 'member_tier']) }}
    where (segment_types.segment_type = 'channel') = (active_counts.channel_key <> '*')
        and {{ computed_tonight('active_counts.is_dirty', 'segment_types.segment_type') }}

),

customer_measures as (

    select period_grain, period_start, segment_type, segment_value,
        active_customers_at_start, 0 as churned, 0 as reactivated
    from active_segmented

    union all

    select period_grain, period_start, segment_type, segment_value,
        0,
        case when is_churned then 1 else 0 end,
        case when is_reactivated then 1 else 0 end
    from customers_segmented

),

customer_aggregated as (

    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        sum(active_customers_at_start) as active_customers_at_start,
        sum(churned) as churned,
        sum(reactivated) as reactivated
    from customer_measures
    group by period_grain, period_start, segment_type, segment_value

),

members_segmented as (

    select
        member_measures.*,
        segment_types.segment_type,
        case segment_types.segment_type
            when 'all' then 'all'
            when 'city' then member_measures.city
            when 'member_tier' then member_measures.member_tier
        end as segment_value
    from member_measures
    cross join {{ segment_types(['all', 'city', 'member_tier']) }}
    where {{ computed_tonight('member_measures.is_dirty', 'segment_types.segment_type') }}

),

member_aggregated as (

    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        sum(members_at_start) as members_at_start,
        sum(members_cancelled) as members_cancelled
    from members_segmented
    group by period_grain, period_start, segment_type, segment_value

),

segments_seen as (

    select segment_type, segment_value from customer_aggregated
    union
    select segment_type, segment_value from member_aggregated

),

grid as ({{ segment_grid('periods', 'segments_seen', {'channel': 'order_channel', 'member_tier': 'member_tier'}) }}),

filled as (

    select
        grid.period_grain,
        grid.period_start,
        grid.segment_type,
        grid.segment_value,
        coalesce(c.active_customers_at_start, 0) as active_customers_at_start,
        coalesce(c.churned, 0) as churned,
        coalesce(c.reactivated, 0) as reactivated,
        case when grid.segment_type = 'channel' then null else coalesce(m.members_at_start, 0) end as members_at_start,
        case when grid.segment_type = 'channel' then null else coalesce(m.members_cancelled, 0) end as members_cancelled
    from grid
    left join customer_aggregated as c
        on grid.period_grain = c.period_grain
        and grid.period_start = c.period_start
        and grid.segment_type = c.segment_type
        and grid.segment_value = c.segment_value
    left join member_aggregated as m
        on grid.period_grain = m.period_grain
        and grid.period_start = m.period_start
        and grid.segment_type = m.segment_type
        and grid.segment_value = m.segment_value

),

final as (

    select
        cast(period_grain as varchar) as period_grain,
        cast(period_start as date) as period_start,
        cast(segment_type as varchar) as segment_type,
        cast(segment_value as varchar) as segment_value,
        cast(active_customers_at_start as bigint) as active_customers_at_start,
        cast(churned as bigint) as churned,
        cast({{ safe_divide('churned', 'active_customers_at_start') }} as numeric(18, 6)) as churn_rate,
        cast(reactivated as bigint) as reactivated,
        cast(members_at_start as bigint) as members_at_start,
        cast(members_cancelled as bigint) as members_cancelled,
        cast({{ safe_divide('members_cancelled', 'members_at_start') }} as numeric(18, 6)) as member_churn_rate,
        {{ mart_metadata() }}
    from filled

)

select * from final
