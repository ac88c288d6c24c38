-- One row per period_grain, period_start, segment_type ('all','city','member_tier') and
-- segment_value. member_tier = the tier in force at the moment each measure looks at
-- (s for members_at_start, e for the tier mix, the event for joins/cancellations/changes/
-- points); for the repurchase split it is the tier as of s ('non_member' otherwise).
with

periods as (select * from {{ ref('int_periods') }}),

measures as (select * from {{ ref('int_member_period_measures') }}),

customer_periods as (

    select * from {{ ref('int_customer_periods') }}
    where channel_key = '*'

),

active_counts as (select * from {{ ref('int_active_customer_counts') }}),

measures_segmented as (

    select
        measures.*,
        segment_types.segment_type,
        case segment_types.segment_type
            when 'all' then 'all'
            when 'city' then measures.city
            when 'member_tier' then measures.member_tier
        end as segment_value
    from measures
    cross join {{ segment_types(['all', 'city', 'member_tier']) }}

),

member_aggregated as (

    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        sum(case when measure = 'member_at_start' then measure_value else 0 end) as members_at_start,
        sum(case when measure = 'joined' then measure_value else 0 end) as new_members,
        sum(case when measure = 'cancelled' then measure_value else 0 end) as members_cancelled,
        sum(case when measure = 'member_at_end' then measure_value else 0 end) as members_at_end,
        sum(case when measure = 'member_at_end' and member_tier = 'bronze' then measure_value else 0 end) as bronze_members_at_end,
        sum(case when measure = 'member_at_end' and member_tier = 'silver' then measure_value else 0 end) as silver_members_at_end,
        sum(case when measure = 'member_at_end' and member_tier = 'gold' then measure_value else 0 end) as gold_members_at_end,
        sum(case when measure = 'member_at_end' and member_tier = 'platinum' then measure_value else 0 end) as platinum_members_at_end,
        sum(case when measure = 'upgrade' then measure_value else 0 end) as tier_upgrades,
        sum(case when measure = 'downgrade' then measure_value else 0 end) as tier_downgrades,
        sum(points_earned) as points_earned,
        sum(points_redeemed) as points_redeemed,
        sum(points_net) as points_net
    from measures_segmented
    group by period_grain, period_start, segment_type, segment_value

),

customers_segmented as (

    select
        customer_periods.*,
        segment_types.segment_type,
        case segment_types.segment_type
            when 'all' then 'all'
            when 'city' then customer_periods.city
            when 'member_tier' then customer_periods.member_tier_at_start
        end as segment_value
    from customer_periods
    cross join {{ segment_types(['all', 'city', 'member_tier']) }}

),

-- customers active at s: from the counts (channel_key '*'); members = any tier
active_segmented as (

    select
        active_counts.period_grain,
        active_counts.period_start,
        segment_types.segment_type,
        case segment_types.segment_type
            when 'all' then 'all'
            when 'city' then active_counts.city
            when 'member_tier' then active_counts.member_tier
        end as segment_value,
        active_counts.member_tier,
        active_counts.active_customers_at_start
    from active_counts
    cross join {{ segment_types(['all', 'city', 'member_tier']) }}
    where active_counts.channel_key = '*'

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

    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        sum(active_members_at_start) as active_members_at_start,
        sum(member_repurchasers) as member_repurchasers,
        sum(active_non_members_at_start) as active_non_members_at_start,
        sum(non_member_repurchasers) as non_member_repurchasers
    from customer_measures
    group by period_grain, period_start, segment_type, segment_value

),

segments_seen as (

    select segment_type, segment_value from member_aggregated
    union
    select segment_type, segment_value from customer_aggregated

),

grid as ({{ segment_grid('periods', 'segments_seen') }}),

filled as (

    select
        grid.period_grain,
        grid.period_start,
        grid.segment_type,
        grid.segment_value,
        coalesce(m.members_at_start, 0) as members_at_start,
        coalesce(m.new_members, 0) as new_members,
        coalesce(m.members_cancelled, 0) as members_cancelled,
        coalesce(m.members_at_end, 0) as members_at_end,
        coalesce(m.bronze_members_at_end, 0) as bronze_members_at_end,
        coalesce(m.silver_members_at_end, 0) as silver_members_at_end,
        coalesce(m.gold_members_at_end, 0) as gold_members_at_end,
        coalesce(m.platinum_members_at_end, 0) as platinum_members_at_end,
        coalesce(m.tier_upgrades, 0) as tier_upgrades,
        coalesce(m.tier_downgrades, 0) as tier_downgrades,
        coalesce(m.points_earned, 0) as points_earned,
        coalesce(m.points_redeemed, 0) as points_redeemed,
        coalesce(m.points_net, 0) as points_net,
        coalesce(c.active_members_at_start, 0) as active_members_at_start,
        coalesce(c.member_repurchasers, 0) as member_repurchasers,
        coalesce(c.active_non_members_at_start, 0) as active_non_members_at_start,
        coalesce(c.non_member_repurchasers, 0) as non_member_repurchasers
    from grid
    left join member_aggregated as m
        on grid.period_grain = m.period_grain
        and grid.period_start = m.period_start
        and grid.segment_type = m.segment_type
        and grid.segment_value = m.segment_value
    left join customer_aggregated as c
        on grid.period_grain = c.period_grain
        and grid.period_start = c.period_start
        and grid.segment_type = c.segment_type
        and grid.segment_value = c.segment_value

),

metrics as (

    select
        *,
        sum(points_net) over (
            partition by period_grain, segment_type, segment_value
            order by period_start
            rows between unbounded preceding and current row
        ) as points_outstanding,
        {{ safe_divide('points_redeemed', 'points_earned') }} as redemption_rate,
        {{ safe_divide('member_repurchasers', 'active_members_at_start') }} as member_repurchase_rate,
        {{ safe_divide('non_member_repurchasers', 'active_non_members_at_start') }} as non_member_repurchase_rate
    from filled

),

final as (

    select
        cast(period_grain as varchar) as period_grain,
        cast(period_start as date) as period_start,
        cast(segment_type as varchar) as segment_type,
        cast(segment_value as varchar) as segment_value,
        cast(members_at_start as bigint) as members_at_start,
        cast(new_members as bigint) as new_members,
        cast(members_cancelled as bigint) as members_cancelled,
        cast(members_at_end as bigint) as members_at_end,
        cast(bronze_members_at_end as bigint) as bronze_members_at_end,
        cast(silver_members_at_end as bigint) as silver_members_at_end,
        cast(gold_members_at_end as bigint) as gold_members_at_end,
        cast(platinum_members_at_end as bigint) as platinum_members_at_end,
        cast(tier_upgrades as bigint) as tier_upgrades,
        cast(tier_downgrades as bigint) as tier_downgrades,
        cast(points_earned as bigint) as points_earned,
        cast(points_redeemed as bigint) as points_redeemed,
        cast(redemption_rate as numeric(18, 6)) as redemption_rate,
        cast(points_outstanding as bigint) as points_outstanding,
        cast(active_members_at_start as bigint) as active_members_at_start,
        cast(member_repurchasers as bigint) as member_repurchasers,
        cast(member_repurchase_rate as numeric(18, 6)) as member_repurchase_rate,
        cast(active_non_members_at_start as bigint) as active_non_members_at_start,
        cast(non_member_repurchasers as bigint) as non_member_repurchasers,
        cast(non_member_repurchase_rate as numeric(18, 6)) as non_member_repurchase_rate,
        {{ mart_metadata() }}
    from metrics

)

select * from final
