{{ config(dirty_sources=['referrals', 'customers', 'orders', 'memberships']) }}
-- One row per period_grain, period_start, segment_type and segment_value.
-- Invite metrics by invited period (cohort, status as of the load); money by event time.
-- Segments: referral channel; city and member tier (as of the event) of the referrer.
-- referral_rate's denominator (active customers at s) is the referrer-side population:
-- all active customers for 'all' and 'channel' rows, the city's / tier's for the others.
with

all_periods as (select * from {{ ref('int_periods') }}),

dirty_periods as (select * from {{ ref('int_dirty_periods') }}),

referrals as (

    select * from {{ ref('fct_referrals') }}
    where invited_date <= {{ business_date() }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    where is_valid
        and ordered_date <= {{ business_date() }}

),

active_customer_counts as (select * from {{ ref('int_active_customer_counts') }}),

customers as (select * from {{ ref('dim_customers') }}),

members as (select * from {{ ref('dim_members') }}),

-- every period, is_dirty when this build recomputes it (its referrals, customers, orders or
-- memberships changed)
periods as ({{ periods_flagged('all_periods', 'dirty_periods') }}),

-- customers active at s (the referral_rate denominators), counted by city and member tier
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

-- the referral that brought each referred customer in (first converted one)
referred_customers as (

    select * from (
        select
            referrals.*,
            row_number() over (partition by referee_customer_id order by invited_at, referral_id) as referral_rank
        from referrals
        where is_converted
            and referee_customer_id is not null
    ) as ranked
    where referral_rank = 1

),

invite_events as (

    select
        referrals.referrer_customer_id,
        referrals.referral_channel,
        referrals.invited_date as event_date,
        referrals.invited_at as event_at,
        1 as invites,
        case when referrals.is_registered then 1 else 0 end as registered,
        case when referrals.is_converted then 1 else 0 end as converted,
        case when referrals.is_suspicious then 1 else 0 end as suspicious_referrals,
        case when referrals.is_converted and not referrals.is_suspicious then 1 else 0 end as verified_converted,
        cast(0 as {{ dbt.type_numeric() }}) as rewards_cost,
        cast(0 as {{ dbt.type_numeric() }}) as referred_revenue
    from referrals

    union all

    select
        referrals.referrer_customer_id,
        referrals.referral_channel,
        referrals.rewarded_date,
        referrals.rewarded_at,
        0, 0, 0, 0, 0,
        cast(referrals.reward_amount as {{ dbt.type_numeric() }}),
        cast(0 as {{ dbt.type_numeric() }})
    from referrals
    where referrals.rewarded_at is not null
        and referrals.reward_amount is not null
        and referrals.rewarded_date <= {{ business_date() }}

    union all

    select
        referred_customers.referrer_customer_id,
        referred_customers.referral_channel,
        orders.ordered_date,
        orders.ordered_at,
        0, 0, 0, 0, 0,
        cast(0 as {{ dbt.type_numeric() }}),
        cast(orders.order_amount as {{ dbt.type_numeric() }})
    from referred_customers
    inner join orders
        on orders.customer_id = referred_customers.referee_customer_id

),

-- each event with the referrer's current city and their member tier at the event
events_located as (

    select
        invite_events.*,
        coalesce(customers.city, 'unknown') as city,
        coalesce(tier_at.member_tier, 'non_member') as member_tier
    from invite_events
    left join customers
        on invite_events.referrer_customer_id = customers.customer_id
    {{ join_member_tier_at('members', 'tier_at', 'invite_events.referrer_customer_id', 'invite_events.event_at') }}

),

events_in_periods as ({{ events_in_periods('events_located', 'event_date', 'periods') }}),

segmented as (

    {{ segment_rows('events_in_periods',
                    {'channel': 'referral_channel', 'city': 'city', 'member_tier': 'member_tier'}) }}

),

aggregated as (

    {{ sum_by_segment('segmented', {
        'invites': 'sum(invites)',
        'registered': 'sum(registered)',
        'converted': 'sum(converted)',
        'suspicious_referrals': 'sum(suspicious_referrals)',
        'verified_converted': 'sum(verified_converted)',
        'rewards_cost': 'sum(rewards_cost)',
        'referred_revenue': 'sum(referred_revenue)',
        'active_referrers': 'count(distinct case when invites = 1 then referrer_customer_id end)',
        'converting_referrers': 'count(distinct case when converted = 1 then referrer_customer_id end)',
    }) }}

),

-- referral_rate denominators: customers active at s (channel_key '*')
active_segmented as (

    {{ segment_rows('active_counts', {'city': 'city', 'member_tier': 'member_tier'},
                    where="active_counts.channel_key = '*'") }}

),

active_customers as ({{ sum_by_segment('active_segmented', ['active_customers_at_start']) }}),

grid as ({{ segment_grid('periods', 'aggregated', {'channel': 'referral_channel', 'member_tier': 'member_tier'}) }}),

filled as (

    select
        {{ grid_keys() }},
        {{- zero_filled('a', ['invites', 'registered', 'converted', 'suspicious_referrals', 'verified_converted',
                             'rewards_cost', 'referred_revenue', 'active_referrers', 'converting_referrers']) }},
        coalesce(
            case when grid.segment_type in ('city', 'member_tier') then ac.active_customers_at_start
                 else ac_all.active_customers_at_start end,
            0
        ) as active_customers_at_start
    from grid
    left join aggregated as a
        on {{ same_segment('grid', 'a') }}
    left join active_customers as ac
        on {{ same_segment('grid', 'ac') }}
    left join active_customers as ac_all
        on {{ same_period('grid', 'ac_all') }}

),

final as (

    select
        {{ period_keys() }},
        {{ bigints(['invites', 'registered', 'converted']) }},
        cast({{ safe_divide('converted', 'invites') }} as numeric(18, 6)) as conversion_rate,
        {{ bigints(['suspicious_referrals', 'verified_converted']) }},
        cast(rewards_cost as numeric(18, 2)) as rewards_cost,
        cast(referred_revenue as numeric(18, 2)) as referred_revenue,
        {{ bigints(['active_referrers', 'converting_referrers', 'active_customers_at_start']) }},
        cast({{ safe_divide('converting_referrers', 'active_customers_at_start') }} as numeric(18, 6)) as referral_rate,
        {{ mart_metadata() }}
    from filled

)

select * from final
