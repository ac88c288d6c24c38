{{ config(dirty_sources=['orders', 'memberships']) }}
-- One row per period_grain, period_start, segment_type and segment_value.
-- Customer churn by order channel, customer city and member tier as of s; member churn
-- (members_*) by city and tier as of s, NULL in channel rows (orders have channels,
-- memberships do not).
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

    {{ customer_period_segments() }}

),

-- customers active at s: from the counts ('all', city, tier rows use channel_key '*')
active_segmented as (

    {{ active_count_segments() }}

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

    {{ sum_by_segment('customer_measures', ['active_customers_at_start', 'churned', 'reactivated']) }}

),

members_segmented as (

    {{ segment_rows('member_measures', {'city': 'city', 'member_tier': 'member_tier'}) }}

),

member_aggregated as ({{ sum_by_segment('members_segmented', ['members_at_start', 'members_cancelled']) }}),

segments_seen as (

    select segment_type, segment_value from customer_aggregated
    union
    select segment_type, segment_value from member_aggregated

),

grid as ({{ segment_grid('periods', 'segments_seen', {'channel': 'order_channel', 'member_tier': 'member_tier'}) }}),

filled as (

    select
        {{ grid_keys() }},
        {{- zero_filled('c', ['active_customers_at_start', 'churned', 'reactivated']) }},
        case when grid.segment_type = 'channel' then null else coalesce(m.members_at_start, 0) end as members_at_start,
        case when grid.segment_type = 'channel' then null else coalesce(m.members_cancelled, 0) end as members_cancelled
    from grid
    left join customer_aggregated as c
        on {{ same_segment('grid', 'c') }}
    left join member_aggregated as m
        on {{ same_segment('grid', 'm') }}

),

final as (

    select
        {{ period_keys() }},
        {{ bigints(['active_customers_at_start', 'churned']) }},
        cast({{ safe_divide('churned', 'active_customers_at_start') }} as numeric(18, 6)) as churn_rate,
        {{ bigints(['reactivated', 'members_at_start', 'members_cancelled']) }},
        cast({{ safe_divide('members_cancelled', 'members_at_start') }} as numeric(18, 6)) as member_churn_rate,
        {{ mart_metadata() }}
    from filled

)

select * from final
