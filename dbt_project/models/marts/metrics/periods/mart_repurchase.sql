{{ config(dirty_sources=['orders', 'memberships']) }}
-- One row per period_grain, period_start, segment_type and segment_value.
-- Segments: channel of the order, city of the customer, member tier as of the period start.
with

periods as ({{ periods_flagged() }}),

customer_periods as ({{ customer_periods_located('periods') }}),

active_counts as ({{ active_counts_flagged('periods') }}),

segmented as (

    {{ customer_period_segments() }}

),

-- customers active at s: from the counts ('all', city, tier rows use channel_key '*')
active_segmented as (

    {{ active_count_segments() }}

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

    {{ sum_by_segment('measures', ['active_customers_at_start', 'repurchasers', 'orders', 'revenue', 'buyers',
                                   'new_buyers']) }}

),

filled as (

    {{ filled_grid('aggregated', 'aggregated', {'channel': 'order_channel', 'member_tier': 'member_tier'},
                   counts=['active_customers_at_start', 'repurchasers', 'orders', 'revenue', 'buyers', 'new_buyers']) }}

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
        {{ period_keys() }},
        {{ bigints(['active_customers_at_start', 'repurchasers']) }},
        cast(repurchase_rate as numeric(18, 6)) as repurchase_rate,
        cast(case
            when repurchase_rate is null then null
            when repurchase_rate > 0.70 then 'high'
            when repurchase_rate >= 0.30 then 'medium'
            else 'low'
        end as {{ type_varchar() }}) as repurchase_band,
        cast(orders as bigint) as orders,
        cast(revenue as numeric(18, 2)) as revenue,
        cast(buyers as bigint) as buyers,
        cast(avg_order_value as numeric(18, 6)) as avg_order_value,
        cast(new_buyers as bigint) as new_buyers,
        {{ mart_metadata() }}
    from metrics

)

select * from final
