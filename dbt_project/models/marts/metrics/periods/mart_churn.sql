{{ config(dirty_sources=['orders', 'memberships']) }}
-- One row per period_grain, period_start, segment_type and segment_value.
-- Customer churn by order channel, customer city and member tier as of s; member churn
-- (members_*) by city and tier as of s, NULL in channel rows (orders have channels,
-- memberships do not).
with

all_periods as (select * from {{ ref('int_periods') }}),

dirty_periods as (select * from {{ ref('int_dirty_periods') }}),

customer_periods as (select * from {{ ref('int_customer_periods') }}),

active_customer_counts as (select * from {{ ref('int_active_customer_counts') }}),

member_counts as (select * from {{ ref('int_member_counts') }}),

member_period_measures as (select * from {{ ref('int_member_period_measures') }}),

customers as (select * from {{ ref('dim_customers') }}),

-- every period, is_dirty when this build recomputes it (its orders or memberships changed)
periods as ({{ periods_flagged('all_periods', 'dirty_periods') }}),

-- the customer periods (churned, reactivated) this build needs: those of the dirty periods,
-- and the any-channel rows ('*') of every period for the city rows, with the customer's
-- current city
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
    from member_counts
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
    from member_period_measures as measures
    inner join periods
        on measures.period_grain = periods.period_grain
        and measures.period_start = periods.period_start
    left join customers
        on measures.customer_id = customers.customer_id
    where measures.measure = 'cancelled'

),

-- channel rows from the per-channel rows; 'all', city and member tier rows from the
-- any-channel rows ('*')
customers_segmented as (

    {{ segment_rows('customer_periods_located',
                    {'channel': 'channel_key', 'city': 'city', 'member_tier': 'member_tier_at_start'},
                    where="(segment_types.segment_type = 'channel') = (customer_periods_located.channel_key <> '*')") }}

),

active_segmented as (

    {{ segment_rows('active_counts',
                    {'channel': 'channel_key', 'city': 'city', 'member_tier': 'member_tier'},
                    where="(segment_types.segment_type = 'channel') = (active_counts.channel_key <> '*')") }}

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
