{{ config(dirty_sources=['tickets', 'orders', 'memberships']) }}
-- One row per period_grain, period_start, segment_type and segment_value.
-- Segments: ticket channel, ticket category, city and member tier (as of created_at) of the
-- complaining customer. orders (the complaint_rate denominator) are all valid orders in P
-- for 'all', 'channel' and 'category' rows (a contact channel or a category is not an
-- order attribute), and the orders of the city's customers / of the tier (as of the order)
-- for 'city' and 'member_tier' rows.
with

all_periods as (select * from {{ ref('int_periods') }}),

dirty_periods as (select * from {{ ref('int_dirty_periods') }}),

tickets as (select * from {{ ref('fct_tickets') }}),

orders as (

    select * from {{ ref('fct_orders') }}
    where is_valid
        and ordered_date <= {{ business_date() }}

),

customers as (select * from {{ ref('dim_customers') }}),

members as (select * from {{ ref('dim_members') }}),

-- every period, is_dirty when this build recomputes it (its tickets, orders or memberships
-- changed)
periods as ({{ periods_flagged('all_periods', 'dirty_periods') }}),

-- each ticket with the customer's current city and their member tier when it was created
tickets_located as (

    select
        tickets.*,
        coalesce(customers.city, 'unknown') as city,
        coalesce(tier_at.member_tier, 'non_member') as member_tier
    from tickets
    left join customers
        on tickets.customer_id = customers.customer_id
    {{ join_member_tier_at('members', 'tier_at', 'tickets.customer_id', 'tickets.created_at') }}

),

ticket_dates as (

    -- created in P
    select tickets_located.*, tickets_located.created_date as event_date, 1 as is_created, 0 as is_resolved
    from tickets_located
    where tickets_located.created_date <= {{ business_date() }}

    union all

    -- resolved in P
    select tickets_located.*, tickets_located.resolved_date, 0, 1
    from tickets_located
    where tickets_located.resolved_date <= {{ business_date() }}

),

ticket_events as ({{ events_in_periods('ticket_dates', 'event_date', 'periods') }}),

-- tickets without a customer count in 'all', 'channel' and 'category' only
tickets_segmented as (

    {{ segment_rows('ticket_events',
                    {'channel': 'ticket_channel', 'category': 'ticket_category', 'city': 'city',
                     'member_tier': 'member_tier'},
                    where="segment_types.segment_type in ('all', 'channel', 'category') or ticket_events.customer_id is not null") }}

),

ticket_aggregated as (

    {{ sum_by_segment('tickets_segmented', {
        'complaints': 'sum(is_created)',
        'resolved': 'sum(is_resolved)',
        'median_resolution_hours': percentile(0.5, 'case when is_resolved = 1 then resolution_hours end'),
        'p90_resolution_hours': percentile(0.9, 'case when is_resolved = 1 then resolution_hours end'),
        'median_first_response_hours': percentile(0.5, 'case when is_created = 1 then first_response_hours end'),
        'reopened_resolved': 'sum(case when is_resolved = 1 and reopen_count > 0 then 1 else 0 end)',
        'post_resolution_satisfaction': 'avg(case when is_resolved = 1 then cast(satisfaction_after as ' ~ type_double() ~ ') end)',
        'post_resolution_satisfaction_responses':
            'sum(case when is_resolved = 1 and satisfaction_after is not null then 1 else 0 end)',
        'compensation_amount': 'sum(case when is_created = 1 then compensation_amount else 0 end)',
    }) }}

),

orders_in_periods as ({{ events_in_periods('orders', 'ordered_date', 'periods') }}),

-- the member tier as of each order: only for the periods recomputed tonight
orders_tiered as (

    select orders_in_periods.*, coalesce(tier_at.member_tier, 'non_member') as member_tier
    from orders_in_periods
    {{ join_member_tier_at('members', 'tier_at', 'orders_in_periods.customer_id', 'orders_in_periods.ordered_at') }}
    where orders_in_periods.is_dirty

),

order_aggregated as (

    select orders_in_periods.period_grain, orders_in_periods.period_start, 'city' as segment_type,
        coalesce(customers.city, 'unknown') as segment_value, count(*) as orders
    from orders_in_periods
    left join customers
        on orders_in_periods.customer_id = customers.customer_id
    group by 1, 2, 3, 4
    union all
    select period_grain, period_start, 'member_tier' as segment_type, member_tier as segment_value, count(*) as orders
    from orders_tiered
    group by period_grain, period_start, member_tier
    union all
    select period_grain, period_start, 'all' as segment_type, 'all' as segment_value, count(*) as orders
    from orders_in_periods
    where is_dirty
    group by period_grain, period_start

),

segments_seen as (

    select segment_type, segment_value from ticket_aggregated
    union
    select segment_type, segment_value from order_aggregated

),

grid as ({{ segment_grid('periods', 'segments_seen', {'channel': 'ticket_channel', 'category': 'ticket_category', 'member_tier': 'member_tier'}) }}),

filled as (

    select
        {{ grid_keys() }},
        coalesce(t.complaints, 0) as complaints,
        coalesce(
            case when grid.segment_type in ('city', 'member_tier') then o.orders else all_orders.orders end,
            0
        ) as orders,
        coalesce(t.resolved, 0) as resolved,
        t.median_resolution_hours,
        t.p90_resolution_hours,
        t.median_first_response_hours,
        coalesce(t.reopened_resolved, 0) as reopened_resolved,
        t.post_resolution_satisfaction,
        coalesce(t.post_resolution_satisfaction_responses, 0) as post_resolution_satisfaction_responses,
        coalesce(t.compensation_amount, 0) as compensation_amount
    from grid
    left join ticket_aggregated as t
        on {{ same_segment('grid', 't') }}
    left join order_aggregated as o
        on {{ same_segment('grid', 'o') }}
    left join order_aggregated as all_orders
        on {{ same_period('grid', 'all_orders') }}

),

final as (

    select
        {{ period_keys() }},
        {{ bigints(['complaints', 'orders']) }},
        cast({{ safe_divide('complaints', 'orders') }} as numeric(18, 6)) as complaint_rate,
        cast(resolved as bigint) as resolved,
        cast(median_resolution_hours as numeric(18, 6)) as median_resolution_hours,
        cast(p90_resolution_hours as numeric(18, 6)) as p90_resolution_hours,
        cast(median_first_response_hours as numeric(18, 6)) as median_first_response_hours,
        cast(reopened_resolved as bigint) as reopened_resolved,
        cast({{ safe_divide('reopened_resolved', 'resolved') }} as numeric(18, 6)) as reopen_rate,
        cast(post_resolution_satisfaction_responses as bigint) as post_resolution_satisfaction_responses,
        cast(post_resolution_satisfaction as numeric(18, 6)) as post_resolution_satisfaction,
        cast(compensation_amount as numeric(18, 2)) as compensation_amount,
        {{ mart_metadata() }}
    from filled

)

select * from final
