{{ config(materialized='table') }}
-- One row per period (grain, start) and business date it contains: the lookup that puts a
-- dated event into its day, week and month with one equi-join on the date (keyed_by_period).
-- Every day of every week and month of the calendar, also those before its first day or
-- after the business date (the first and the last week and month are partial).
with

periods as (select * from {{ ref('int_periods') }}),

offsets as (

    select day_offset from (values
        {%- for n in range(31) %} ({{ n }}){% if not loop.last %},{% endif %}{% endfor %}
    ) as offsets (day_offset)

),

days as (

    select
        periods.period_grain,
        periods.period_start,
        cast({{ dbt.dateadd('day', 'offsets.day_offset', 'periods.period_start') }} as date) as date_day,
        periods.period_end
    from periods
    cross join offsets

)

select period_grain, period_start, date_day
from days
where date_day < period_end
