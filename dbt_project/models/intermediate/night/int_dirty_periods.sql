{{ config(materialized='table') }}
-- One row per source table and period (grain, start) that tonight's changes to that source
-- can alter: every period on 'everything' (source_table '*'), else the periods ending after a
-- 'from' date or containing an 'on' date of int_changed_dates. Each period-incremental model
-- recomputes, and its strategy 'replace_changed' replaces, the periods dirty for the sources
-- it reads (config dirty_sources; 'calendar' = the periods still open at the last build,
-- and '*' apply to every model).
with

periods as (select * from {{ ref('int_periods') }}),

changes as (select * from {{ ref('int_changed_dates') }}),

earliest_from as (

    select source_table, min(change_date) as change_date
    from changes
    where change_kind = 'from'
    group by source_table

),

on_dates as (

    select distinct source_table, change_date
    from changes
    where change_kind = 'on'

),

dirty as (

    select cast('*' as {{ dbt.type_string() }}) as source_table, periods.period_grain, periods.period_start
    from periods
    where exists (select 1 from changes where change_kind = 'everything')

    union

    select earliest_from.source_table, periods.period_grain, periods.period_start
    from periods
    inner join earliest_from
        on periods.period_end > earliest_from.change_date

    union

    select on_dates.source_table, periods.period_grain, periods.period_start
    from periods
    inner join on_dates
        on on_dates.change_date >= periods.period_start
        and on_dates.change_date < periods.period_end

)

select source_table, period_grain, period_start from dirty
