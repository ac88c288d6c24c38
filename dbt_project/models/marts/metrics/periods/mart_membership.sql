{{ config(dirty_sources=['orders', 'memberships', 'points_ledger']) }}
-- One row per period_grain, period_start, segment_type ('all','city','member_tier') and
-- segment_value. member_tier = the tier in force at the moment each measure looks at
-- (s for members_at_start, e for the tier mix, the event for joins/cancellations/changes/
-- points); for the repurchase split it is the tier as of s ('non_member' otherwise).
with

all_periods as (select * from {{ ref('int_periods') }}),

dirty_periods as (select * from {{ ref('int_dirty_periods') }}),

customer_periods as (select * from {{ ref('int_customer_periods') }}),

active_customer_counts as (select * from {{ ref('int_active_customer_counts') }}),

member_counts as (select * from {{ ref('int_member_counts') }}),

member_period_measures as (select * from {{ ref('int_member_period_measures') }}),

customers as (select * from {{ ref('dim_customers') }}),

-- every period, is_dirty when this build recomputes it (its orders, memberships or points
-- changed)
periods as ({{ periods_flagged('all_periods', 'dirty_periods') }}),

-- the any-channel customer periods (repurchasers, member or not at s) this build needs:
-- those of the dirty periods, and of every period for the city rows, with the customer's
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
    where customer_periods.channel_key = '*'

),

-- customers active at s, counted by city and member tier as of s
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

-- members at s and at e, by the tier in force at each
member_counts_flagged as (

    select member_counts.*, periods.is_dirty
    from member_counts
    inner join periods
        on member_counts.period_grain = periods.period_grain
        and member_counts.period_start = periods.period_start

),

-- joins, cancellations, tier changes and points of every period (points_outstanding sums
-- them over all earlier periods)
measures as (

    select measures.*, coalesce(customers.city, 'unknown') as city, periods.is_dirty
    from member_period_measures as measures
    inner join periods
        on measures.period_grain = periods.period_grain
        and measures.period_start = periods.period_start
    left join customers
        on measures.customer_id = customers.customer_id

),

counts_segmented as (

    {{ segment_rows('member_counts_flagged', {'city': 'city', 'member_tier': 'member_tier'}) }}

),

measures_segmented as (

    -- every period: points_outstanding is a running total over all of them
    {{ segment_rows('measures', {'city': 'city', 'member_tier': 'member_tier'}, tonight_only=false) }}

),

member_contributions as (

    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        sum(members_at_start) as members_at_start,
        0 as new_members,
        0 as members_cancelled,
        sum(members_at_end) as members_at_end,
        sum(case when member_tier = 'bronze' then members_at_end else 0 end) as bronze_members_at_end,
        sum(case when member_tier = 'silver' then members_at_end else 0 end) as silver_members_at_end,
        sum(case when member_tier = 'gold' then members_at_end else 0 end) as gold_members_at_end,
        sum(case when member_tier = 'platinum' then members_at_end else 0 end) as platinum_members_at_end,
        0 as tier_upgrades,
        0 as tier_downgrades,
        cast(0 as {{ dbt.type_bigint() }}) as points_earned,
        cast(0 as {{ dbt.type_bigint() }}) as points_redeemed
    from counts_segmented
    group by period_grain, period_start, segment_type, segment_value

    union all

    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        0,
        sum(case when measure = 'joined' then measure_value else 0 end),
        sum(case when measure = 'cancelled' then measure_value else 0 end),
        0, 0, 0, 0, 0,
        sum(case when measure = 'upgrade' then measure_value else 0 end),
        sum(case when measure = 'downgrade' then measure_value else 0 end),
        sum(points_earned),
        sum(points_redeemed)
    from measures_segmented
    where {{ computed_tonight('is_dirty') }}
    group by period_grain, period_start, segment_type, segment_value

),

member_aggregated as (

    {{ sum_by_segment('member_contributions', ['members_at_start', 'new_members', 'members_cancelled', 'members_at_end',
                                               'bronze_members_at_end', 'silver_members_at_end', 'gold_members_at_end',
                                               'platinum_members_at_end', 'tier_upgrades', 'tier_downgrades',
                                               'points_earned', 'points_redeemed']) }}

),

-- points_net of every period (not only tonight's): the running balance needs them all
points_net as (

    select period_grain, period_start, segment_type, segment_value, sum(points_net) as points_net
    from measures_segmented
    where measure = 'points'
    group by period_grain, period_start, segment_type, segment_value

),

customers_segmented as (

    {{ segment_rows('customer_periods_located', {'city': 'city', 'member_tier': 'member_tier_at_start'}) }}

),

-- customers active at s: from the counts (channel_key '*'); members = any tier
active_segmented as (

    {{ segment_rows('active_counts', {'city': 'city', 'member_tier': 'member_tier'},
                    where="active_counts.channel_key = '*'") }}

),

customer_measures as (

    select period_grain, period_start, segment_type, segment_value,
        case when member_tier <> 'non_member' then active_customers_at_start else 0 end as active_members_at_start,
        0 as member_repurchasers,
        case when member_tier = 'non_member' then active_customers_at_start else 0 end as active_non_members_at_start,
        0 as non_member_repurchasers
    from active_segmented

    union all

    select period_grain, period_start, segment_type, segment_value,
        0,
        case when is_repurchaser and is_member_at_start then 1 else 0 end,
        0,
        case when is_repurchaser and not is_member_at_start then 1 else 0 end
    from customers_segmented

),

customer_aggregated as (

    {{ sum_by_segment('customer_measures', ['active_members_at_start', 'member_repurchasers',
                                            'active_non_members_at_start', 'non_member_repurchasers']) }}

),

segments_seen as (

    select segment_type, segment_value from member_aggregated
    union
    select segment_type, segment_value from customer_aggregated
    union
    select segment_type, segment_value from points_net

),

grid as ({{ segment_grid('periods', 'segments_seen', {'member_tier': 'member_tier'}) }}),

-- points_outstanding: the running sum of points_net over every period up to this one
grid_segments as (select distinct segment_type, segment_value from grid),

balances as (

    select
        periods.period_grain,
        periods.period_start,
        grid_segments.segment_type,
        grid_segments.segment_value,
        sum(coalesce(points_net.points_net, 0)) over (
            partition by periods.period_grain, grid_segments.segment_type, grid_segments.segment_value
            order by periods.period_start
            rows between unbounded preceding and current row
        ) as points_outstanding
    from periods
    cross join grid_segments
    left join points_net
        on periods.period_grain = points_net.period_grain
        and periods.period_start = points_net.period_start
        and grid_segments.segment_type = points_net.segment_type
        and grid_segments.segment_value = points_net.segment_value

),

filled as (

    select
        {{ grid_keys() }},
        {{- zero_filled('m', ['members_at_start', 'new_members', 'members_cancelled', 'members_at_end',
                             'bronze_members_at_end', 'silver_members_at_end', 'gold_members_at_end',
                             'platinum_members_at_end', 'tier_upgrades', 'tier_downgrades', 'points_earned',
                             'points_redeemed']) }},
        balances.points_outstanding,
        {{- zero_filled('c', ['active_members_at_start', 'member_repurchasers', 'active_non_members_at_start',
                             'non_member_repurchasers']) }}
    from grid
    left join member_aggregated as m
        on {{ same_segment('grid', 'm') }}
    left join customer_aggregated as c
        on {{ same_segment('grid', 'c') }}
    inner join balances
        on {{ same_segment('grid', 'balances') }}

),

metrics as (

    select
        *,
        {{ safe_divide('points_redeemed', 'points_earned') }} as redemption_rate,
        {{ safe_divide('member_repurchasers', 'active_members_at_start') }} as member_repurchase_rate,
        {{ safe_divide('non_member_repurchasers', 'active_non_members_at_start') }} as non_member_repurchase_rate
    from filled

),

final as (

    select
        {{ period_keys() }},
        {{ bigints(['members_at_start', 'new_members', 'members_cancelled', 'members_at_end', 'bronze_members_at_end', 'silver_members_at_end', 'gold_members_at_end', 'platinum_members_at_end', 'tier_upgrades', 'tier_downgrades', 'points_earned', 'points_redeemed']) }},
        cast(redemption_rate as numeric(18, 6)) as redemption_rate,
        {{ bigints(['points_outstanding', 'active_members_at_start', 'member_repurchasers']) }},
        cast(member_repurchase_rate as numeric(18, 6)) as member_repurchase_rate,
        {{ bigints(['active_non_members_at_start', 'non_member_repurchasers']) }},
        cast(non_member_repurchase_rate as numeric(18, 6)) as non_member_repurchase_rate,
        {{ mart_metadata() }}
    from metrics

)

select * from final
