{{ config(materialized="table") }}
-- One row per period (grain, start), channel_key ('*' = any channel), city and member_tier
-- (tier as of the period start, 'non_member' otherwise): active_customers_at_start = the
-- number of customers active at s in that cell (zero cells are left out).
-- Event sweep, never customers x days: activity islands are split by the customer's
-- member-tier date ranges ("pieces"); each piece adds +1 on its first date and -1 on the day
-- after its last; a running sum over a dense (key x period start) grid gives the count on
-- every period start. non_member = all active - members (no complement intervals needed).
with

periods as (select * from {{ ref('int_periods') }}),

islands as (select * from {{ ref('int_customer_activity_islands') }}),

customers as (select * from {{ ref('dim_customers') }}),

-- member on the business dates [member_from_date, member_to_date] (see int_member_tier_ranges)
member_ranges as (select * from {{ ref('int_member_tier_ranges') }}),

islands_located as (

    select
        islands.customer_id,
        islands.channel_key,
        coalesce(customers.city, 'unknown') as city,
        islands.active_from_date,
        islands.active_to_date
    from islands
    left join customers
        on islands.customer_id = customers.customer_id

),

member_pieces as (

    select
        islands_located.channel_key,
        islands_located.city,
        member_ranges.member_tier as label,
        case
            when islands_located.active_from_date > member_ranges.member_from_date then islands_located.active_from_date
            else member_ranges.member_from_date
        end as piece_from_date,
        case
            when member_ranges.member_to_date is null
                or islands_located.active_to_date < member_ranges.member_to_date then islands_located.active_to_date
            else member_ranges.member_to_date
        end as piece_to_date
    from islands_located
    inner join member_ranges
        on islands_located.customer_id = member_ranges.customer_id
        and member_ranges.member_from_date <= islands_located.active_to_date
        and (member_ranges.member_to_date is null or member_ranges.member_to_date >= islands_located.active_from_date)

),

pieces as (

    select
        channel_key,
        city,
        cast('__all__' as {{ dbt.type_string() }}) as label,
        active_from_date as piece_from_date,
        active_to_date as piece_to_date
    from islands_located

    union all

    select channel_key, city, label, piece_from_date, piece_to_date
    from member_pieces

),

events as (

    select channel_key, city, label, piece_from_date as change_date, 1 as delta
    from pieces

    union all

    select channel_key, city, label,
        cast({{ dbt.dateadd('day', 1, 'piece_to_date') }} as date) as change_date, -1 as delta
    from pieces

),

sweep_keys as (select distinct channel_key, city, label from events),

period_dates as (select distinct period_start as change_date from periods),

-- every key on every period start (delta 0), so the running sum exists there
grid_events as (

    select sweep_keys.channel_key, sweep_keys.city, sweep_keys.label, period_dates.change_date, 0 as delta
    from sweep_keys
    cross join period_dates

),

daily_changes as (

    select channel_key, city, label, change_date, sum(delta) as net_change
    from (
        select * from events
        union all
        select * from grid_events
    ) as all_events
    group by channel_key, city, label, change_date

),

running as (

    select
        channel_key,
        city,
        label,
        change_date,
        sum(net_change) over (
            partition by channel_key, city, label
            order by change_date
            rows between unbounded preceding and current row
        ) as active_customers
    from daily_changes

),

at_period_start as (

    select
        periods.period_grain,
        periods.period_start,
        running.channel_key,
        running.city,
        running.label,
        running.active_customers
    from periods
    inner join running
        on running.change_date = periods.period_start

),

non_members as (

    select
        period_grain,
        period_start,
        channel_key,
        city,
        cast('non_member' as {{ dbt.type_string() }}) as member_tier,
        sum(case when label = '__all__' then active_customers else 0 end)
            - sum(case when label <> '__all__' then active_customers else 0 end) as active_customers_at_start
    from at_period_start
    group by period_grain, period_start, channel_key, city

),

cells as (

    select
        period_grain,
        period_start,
        channel_key,
        city,
        label as member_tier,
        active_customers as active_customers_at_start
    from at_period_start
    where label <> '__all__'

    union all

    select * from non_members

),

final as (

    select
        period_grain,
        period_start,
        channel_key,
        city,
        member_tier,
        cast(active_customers_at_start as {{ dbt.type_bigint() }}) as active_customers_at_start
    from cells
    where active_customers_at_start <> 0

)

select * from final
