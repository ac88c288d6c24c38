{{ config(dirty_sources=['orders', 'memberships']) }}
-- One row per period_grain, period_start, segment_type and segment_value.
-- Segments: channel of the order, city of the customer, member tier as of the period start.
with

all_periods as (select * from {{ ref('int_periods') }}),

dirty_periods as (select * from {{ ref('int_dirty_periods') }}),

customer_periods as (select * from {{ ref('int_customer_periods') }}),

active_customer_counts as (select * from {{ ref('int_active_customer_counts') }}),

customers as (select * from {{ ref('dim_customers') }}),

-- every period, is_dirty when this build recomputes it (its orders or memberships changed)
periods as ({{ periods_flagged('all_periods', 'dirty_periods') }}),

-- the customer periods (buyers, repurchasers, new buyers) this build needs: those of the
-- dirty periods, and the any-channel rows ('*') of every period for the city rows, with the
-- customer's current city
customer_periods_located as (

    select
        customer_periods.*,
        coalesce(customers.city, 'unknown') as city,
        periods.is_dirty
    from customer_periods
    inner join periods
        on customer_periods.period_grain = periods.period_grain
        and customer_periods.period_start = periods.period_start
    left join customers
        on customer_periods.customer_id = customers.customer_id
    {%- if incremental_night() %}
    where periods.is_dirty or customer_periods.channel_key = '*'
    {%- endif %}

),

-- customers active at s, counted by channel_key, city and member tier as of s
active_counts as (

    select active_customer_counts.*, periods.is_dirty
    from active_customer_counts
    inner join periods
        on active_customer_counts.period_grain = periods.period_grain
        and active_customer_counts.period_start = periods.period_start
    {%- if incremental_night() %}
    where periods.is_dirty or active_customer_counts.channel_key = '*'
    {%- endif %}

),

-- channel rows from the per-channel rows; 'all', city and member tier rows from the
-- any-channel rows ('*')
segmented as (

    {{ segment_rows('customer_periods_located',
                    {'channel': 'channel_key', 'city': 'city', 'member_tier': 'member_tier_at_start'},
                    where="(segment_types.segment_type = 'channel') = (customer_periods_located.channel_key <> '*')") }}

),

active_segmented as (

    {{ segment_rows('active_counts',
                    {'channel': 'channel_key', 'city': 'city', 'member_tier': 'member_tier'},
                    where="(segment_types.segment_type = 'channel') = (active_counts.channel_key <> '*')") }}

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

    {{ filled_grid('periods', 'aggregated', 'aggregated', {'channel': 'order_channel', 'member_tier': 'member_tier'},
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
