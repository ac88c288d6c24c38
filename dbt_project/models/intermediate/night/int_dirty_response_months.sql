{{ config(materialized='table') }}
-- One row per response month whose rows mart_nps_value recomputes tonight (its config
-- replace_keys). Every month on a full build or when int_changed_dates says 'everything';
-- otherwise the months whose follow-up windows tonight's changes can reach:
--   the months after the last completed build's (new rows), and those holding a window still
--   open at that build (windows complete as days pass);
--   the months of the answers that changed (every version's date);
--   the months of the answers of customers whose orders changed, or who made a referral that
--   changed, whose windows end on or after the earliest changed date;
--   the months before the first month with an answer (a change that moved the first month
--   later leaves no row there).
with

responses as (

    select * from {{ ref('fct_survey_responses') }}
    where has_valid_nps
        and customer_id is not null
        and submitted_date <= {{ business_date() }}

),

changed_dates as (select * from {{ ref('int_changed_dates') }}),

changed_customers as (select * from {{ ref('int_changed_customers') }}),

all_periods as (select * from {{ ref('int_periods') }}),

months as (

    select period_start as response_month
    from all_periods
    where period_grain = 'month'

),

-- each answer's month and the last business date its window can reach
answers as (

    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'cast(submitted_date as timestamp)') }} as date) as response_month,
        cast({{ dbt.dateadd('day', var('follow_up_days'), 'submitted_date') }} as date) as window_last_date
    from responses

),

first_month as (select min(response_month) as response_month from answers),

changes as (

    select
        max(case when change_kind = 'everything' then 1 else 0 end) as is_everything,
        min(case when source_table = 'orders' then change_date end) as first_order_change,
        min(case when source_table = 'referrals' then change_date end) as first_referral_change,
        max(case when source_table = 'calendar' then change_date end) as last_build_date
    from changed_dates

),

dirty as (

    select months.response_month
    from months
    cross join changes
    where changes.is_everything = 1
        or months.response_month >= cast({{ dbt.date_trunc('month', 'cast(' ~ dbt.dateadd('day', -1 * var('follow_up_days'), 'changes.last_build_date') ~ ' as timestamp)') }} as date)

    union

    select cast({{ dbt.date_trunc('month', 'cast(change_date as timestamp)') }} as date)
    from changed_dates
    where source_table = 'survey_responses'

    union

    select answers.response_month
    from answers
    cross join changes
    where answers.customer_id in (select customer_id from changed_customers where source_table = 'orders')
        and answers.window_last_date >= changes.first_order_change

    union

    select answers.response_month
    from answers
    cross join changes
    where answers.customer_id in (select customer_id from changed_customers where source_table = 'referrals')
        and answers.window_last_date >= changes.first_referral_change

    union

    select months.response_month
    from months
    cross join first_month
    where months.response_month < first_month.response_month

)

select distinct response_month
from dirty
where response_month is not null
