{{ config(materialized='table') }}
-- One row per cohort month whose rows mart_cohort_retention recomputes tonight (its config
-- replace_keys): every cohort on a full build, when int_changed_dates says 'everything', and
-- when the load's month is later than the last completed build's (every cohort gains a month,
-- and its last month completes); otherwise the cohorts, before and after, of the customers
-- int_customer_cohorts recomputed tonight (their orders or customer record changed).
with

customer_cohorts as (select * from {{ ref('int_customer_cohorts') }}),

changed_dates as (select * from {{ ref('int_changed_dates') }}),

-- 'everything', or the last completed build's business date (source 'calendar') in an
-- earlier month than tonight's
every_cohort as (

    select count(*) as reasons
    from changed_dates
    where change_kind = 'everything'
        or (source_table = 'calendar'
            and change_date < cast({{ dbt.date_trunc('month', 'cast(' ~ business_date() ~ ' as timestamp)') }} as date))

),

recomputed as (

    select customer_cohorts.cohort_month, customer_cohorts.previous_cohort_month
    from customer_cohorts
    where customer_cohorts._batch_id = {{ batch_id() }}

),

dirty as (

    select customer_cohorts.cohort_month
    from customer_cohorts
    cross join every_cohort
    where every_cohort.reasons > 0

    union

    select cohort_month from recomputed

    union

    select previous_cohort_month from recomputed

)

select distinct cohort_month
from dirty
where cohort_month is not null
