{{ config(materialized='table') }}
-- One row per period (grain, start), city ('unknown' when the customer is not known) and
-- member tier with at least one member at s or at e: members_at_start (members at s) and
-- members_at_end (members at e), each with the tier in force at that moment. Event sweep
-- over int_member_tier_ranges (+1 on the first date, -1 the day after the last), sampled at
-- every period boundary. Rebuilt every night: the city is the customer's current one.
-- Members who joined after the business date are not known yet.
with

periods as (select * from {{ ref('int_periods') }}),

ranges as (

    select * from {{ ref('int_member_tier_ranges') }}
    where joined_date <= {{ business_date() }}

),

customers as (select * from {{ ref('dim_customers') }}),

located as (

    select
        coalesce(customers.city, 'unknown') as city,
        ranges.member_tier,
        ranges.member_from_date,
        ranges.member_to_date
    from ranges
    left join customers
        on ranges.customer_id = customers.customer_id

),

events as (

    select city, member_tier, member_from_date as change_date, 1 as delta
    from located

    union all

    select city, member_tier, cast({{ dbt.dateadd('day', 1, 'member_to_date') }} as date) as change_date, -1 as delta
    from located
    where member_to_date is not null

),

sweep_keys as (select distinct city, member_tier from events),

boundary_dates as (

    select period_start as change_date from periods
    union
    select period_end from periods

),

grid_events as (

    select sweep_keys.city, sweep_keys.member_tier, boundary_dates.change_date, 0 as delta
    from sweep_keys
    cross join boundary_dates

),

daily_changes as (

    select city, member_tier, change_date, sum(delta) as net_change
    from (
        select * from events
        union all
        select * from grid_events
    ) as all_events
    group by city, member_tier, change_date

),

running as (

    select
        city,
        member_tier,
        change_date,
        sum(net_change) over (
            partition by city, member_tier
            order by change_date
            rows between unbounded preceding and current row
        ) as members
    from daily_changes

),

-- sampled at every period start and end (a union, not a self-join of the sweep: no join
-- order can multiply the rows)
samples as (

    select periods.period_grain, periods.period_start, running.city, running.member_tier,
        running.members as members_at_start, 0 as members_at_end
    from periods
    inner join running
        on running.change_date = periods.period_start

    union all

    select periods.period_grain, periods.period_start, running.city, running.member_tier,
        0, running.members
    from periods
    inner join running
        on running.change_date = periods.period_end

),

final as (

    select
        period_grain,
        period_start,
        city,
        member_tier,
        cast(sum(members_at_start) as {{ dbt.type_bigint() }}) as members_at_start,
        cast(sum(members_at_end) as {{ dbt.type_bigint() }}) as members_at_end
    from samples
    group by period_grain, period_start, city, member_tier

)

select * from final
where members_at_start <> 0 or members_at_end <> 0
