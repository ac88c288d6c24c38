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
-- Segments: channel of the order, city of the customer, member tier as of the period start.
-- Period-incremental: an incremental night recomputes the dirty periods, and the city rows
-- of every period (the customer's current city).
-- depends_on: {{ ref('int_dirty_periods') }}
with

periods as ({{ periods_flagged() }}),

customer_periods as ({{ customer_periods_located('periods') }}),

active_counts as ({{ active_counts_flagged('periods') }}),

segmented as (

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

measures as (

    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        active_customers_at_start,
        0 as repurchasers,
        0 as orders,
        cast(0 as {{ dbt.type_numeric() }}) as revenue,
        0 as buyers,
        0 as new_buyers
    from active_segmented

    union all

    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        0,
        case when is_repurchaser then 1 else 0 end,
        valid_orders,
        cast(revenue_amount as {{ dbt.type_numeric() }}),
        case when has_valid_order then 1 else 0 end,
        case when is_new_buyer then 1 else 0 end
    from segmented

),

aggregated as (

    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        sum(active_customers_at_start) as active_customers_at_start,
        sum(repurchasers) as repurchasers,
        sum(orders) as orders,
        sum(revenue) as revenue,
        sum(buyers) as buyers,
        sum(new_buyers) as new_buyers
    from measures
    group by period_grain, period_start, segment_type, segment_value

),

grid as ({{ segment_grid('periods', 'aggregated', {'channel': 'order_channel', 'member_tier': 'member_tier'}) }}),

filled as (

    select
        grid.period_grain,
        grid.period_start,
        grid.segment_type,
        grid.segment_value,
        coalesce(aggregated.active_customers_at_start, 0) as active_customers_at_start,
        coalesce(aggregated.repurchasers, 0) as repurchasers,
        coalesce(aggregated.orders, 0) as orders,
        coalesce(aggregated.revenue, 0) as revenue,
        coalesce(aggregated.buyers, 0) as buyers,
        coalesce(aggregated.new_buyers, 0) as new_buyers
    from grid
    left join aggregated
        on grid.period_grain = aggregated.period_grain
        and grid.period_start = aggregated.period_start
        and grid.segment_type = aggregated.segment_type
        and grid.segment_value = aggregated.segment_value

),

metrics as (

    select
        *,
        {{ safe_divide('repurchasers', 'active_customers_at_start') }} as repurchase_rate,
        {{ safe_divide('revenue', 'orders') }} as avg_order_value
    from filled

),

final as (

    select
        cast(period_grain as varchar) as period_grain,
        cast(period_start as date) as period_start,
        cast(segment_type as varchar) as segment_type,
        cast(segment_value as varchar) as segment_value,
        cast(active_customers_at_start as bigint) as active_customers_at_start,
        cast(repurchasers as bigint) as repurchasers,
        cast(repurchase_rate as numeric(18, 6)) as repurchase_rate,
        cast(case
            when repurchase_rate is null then null
            when repurchase_rate > 0.70 then 'high'
            when repurchase_rate >= 0.30 then 'medium'
            else 'low'
        end as varchar) as repurchase_band,
        cast(orders as bigint) as orders,
        cast(revenue as numeric(18, 2)) as revenue,
        cast(buyers as bigint) as buyers,
        cast(avg_order_value as numeric(18, 6)) as avg_order_value,
        cast(new_buyers as bigint) as new_buyers,
        {{ mart_metadata() }}
    from metrics

)

select * from final
