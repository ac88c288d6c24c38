{{
    config(
        materialized='incremental',
        incremental_strategy='replace_changed',
        replace_keys={'int_dirty_response_months': ['response_month']},
        on_schema_change='fail'
    )
}}
-- One row per response_month and nps_category ('promoter' 9-10, 'passive' 7-8, 'detractor'
-- 0-6) (推荐率与客户价值): what customers who answered do in the follow_up_days after their
-- answer. Over survey responses (newest delivery) with a valid nps_score and a customer
-- (anonymous answers are left out). A response's window is [submitted_at, + follow_up_days)
-- in business time; orders and referrals count up to the business date. Every category of
-- every month from the first month with such an answer to the load's month has a row.
-- Incremental: a night recomputes the months of int_dirty_response_months (those whose
-- windows its changes can reach) and replaces exactly their rows.
with

responses as (

    select * from {{ ref('fct_survey_responses') }}
    where has_valid_nps
        and customer_id is not null
        and submitted_date <= {{ business_date() }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    where is_valid
        and ordered_date <= {{ business_date() }}

),

referrals as (

    select * from {{ ref('fct_referrals') }}
    where invited_date <= {{ business_date() }}

),

all_periods as (select * from {{ ref('int_periods') }}),

dirty_months as (select * from {{ ref('int_dirty_response_months') }}),

-- the answers of the months this build recomputes, each with its window in business time
windows as (

    select
        response_id,
        customer_id,
        nps_category,
        response_month,
        window_start_local,
        cast({{ dbt.dateadd('day', var('follow_up_days'), 'window_start_local') }} as timestamp) as window_end_local
    from (
        select
            responses.*,
            cast({{ dbt.date_trunc('month', 'cast(responses.submitted_date as timestamp)') }} as date) as response_month,
            {{ to_business_time('responses.submitted_at') }} as window_start_local
        from responses
    ) as answered
    where response_month in (select response_month from dirty_months)

),

window_orders as (

    select
        windows.response_id,
        count(*) as follow_up_orders,
        sum(orders.order_amount) as follow_up_revenue
    from windows
    inner join orders
        on orders.customer_id = windows.customer_id
        and orders.ordered_local_at >= windows.window_start_local
        and orders.ordered_local_at < windows.window_end_local
    group by windows.response_id

),

window_referrals as (

    select
        windows.response_id,
        count(*) as follow_up_referrals
    from windows
    inner join referrals
        on referrals.referrer_customer_id = windows.customer_id
        and {{ to_business_time('referrals.invited_at') }} >= windows.window_start_local
        and {{ to_business_time('referrals.invited_at') }} < windows.window_end_local
    group by windows.response_id

),

followed_up as (

    select
        windows.response_month,
        windows.nps_category,
        windows.customer_id,
        coalesce(window_orders.follow_up_revenue, 0) as follow_up_revenue,
        case when window_orders.follow_up_orders > 0 then 1 else 0 end as has_follow_up_order,
        coalesce(window_referrals.follow_up_referrals, 0) as follow_up_referrals,
        case when windows.window_end_local <= cast({{ business_date_end() }} as timestamp) then 1 else 0 end
            as is_window_complete
    from windows
    left join window_orders
        on windows.response_id = window_orders.response_id
    left join window_referrals
        on windows.response_id = window_referrals.response_id

),

aggregated as (

    select
        response_month,
        nps_category,
        count(*) as responses,
        count(distinct customer_id) as respondents,
        sum(follow_up_revenue) as follow_up_revenue,
        sum(has_follow_up_order) as follow_up_repurchasers,
        sum(follow_up_referrals) as follow_up_referrals,
        sum(is_window_complete) as complete_windows
    from followed_up
    group by response_month, nps_category

),

-- every category of every month from the first month with an answer to the load's month
grid as (

    select
        all_periods.period_start as response_month,
        categories.nps_category
    from all_periods
    cross join (
        select cast('promoter' as {{ dbt.type_string() }}) as nps_category
        union all
        select 'passive'
        union all
        select 'detractor'
    ) as categories
    where all_periods.period_grain = 'month'
        and all_periods.period_start >= (
            select min(cast({{ dbt.date_trunc('month', 'cast(submitted_date as timestamp)') }} as date)) from responses
        )
        and all_periods.period_start in (select response_month from dirty_months)

),

filled as (

    select
        grid.response_month,
        grid.nps_category,
        coalesce(aggregated.responses, 0) as responses,
        coalesce(aggregated.respondents, 0) as respondents,
        coalesce(aggregated.follow_up_revenue, 0) as follow_up_revenue,
        coalesce(aggregated.follow_up_repurchasers, 0) as follow_up_repurchasers,
        coalesce(aggregated.follow_up_referrals, 0) as follow_up_referrals,
        coalesce(aggregated.complete_windows, 0) as complete_windows
    from grid
    left join aggregated
        on grid.response_month = aggregated.response_month
        and grid.nps_category = aggregated.nps_category

),

final as (

    select
        cast(response_month as date) as response_month,
        cast(nps_category as {{ type_varchar() }}) as nps_category,
        {{ bigints(['responses', 'respondents']) }},
        cast(follow_up_revenue as numeric(18, 2)) as follow_up_revenue,
        cast({{ safe_divide('follow_up_revenue', 'responses') }} as numeric(18, 6)) as follow_up_revenue_per_response,
        cast(follow_up_repurchasers as bigint) as follow_up_repurchasers,
        cast({{ safe_divide('follow_up_repurchasers', 'responses') }} as numeric(18, 6)) as follow_up_repurchase_rate,
        cast(follow_up_referrals as bigint) as follow_up_referrals,
        cast({{ safe_divide('follow_up_referrals', 'responses') }} as numeric(18, 6)) as follow_up_referrals_per_response,
        cast(complete_windows as bigint) as complete_windows,
        complete_windows = responses as is_window_complete,
        {{ mart_metadata() }}
    from filled

)

select * from final
