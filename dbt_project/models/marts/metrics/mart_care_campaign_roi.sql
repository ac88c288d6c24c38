-- One row per care campaign (not per period), as of the business date.
with

campaigns as (

    -- every campaign the shop has (as of the night's batch), started or not: one row each
    select * from {{ ref('dim_campaigns') }}

),

campaign_customers as (select * from {{ ref('int_campaign_customers') }}),

aggregated as (

    select
        campaign_id,
        sum(case when not is_holdout then 1 else 0 end) as treated_customers,
        sum(case when is_holdout then 1 else 0 end) as holdout_customers,
        sum(case when not is_holdout and has_responded then 1 else 0 end) as responses,
        sum(touch_cost_amount) as touch_cost_amount,
        sum(case when not is_holdout then window_revenue_amount else 0 end) as treated_revenue,
        sum(case when is_holdout then window_revenue_amount else 0 end) as holdout_revenue,
        sum(case when not is_holdout and has_window_order then 1 else 0 end) as treated_repurchasers,
        sum(case when is_holdout and has_window_order then 1 else 0 end) as holdout_repurchasers
    from campaign_customers
    group by campaign_id

),

joined as (

    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_type,
        campaigns.campaign_channel,
        campaigns.start_date,
        campaigns.end_date,
        coalesce(aggregated.treated_customers, 0) as treated_customers,
        coalesce(aggregated.holdout_customers, 0) as holdout_customers,
        coalesce(aggregated.responses, 0) as responses,
        campaigns.fixed_cost_amount + coalesce(aggregated.touch_cost_amount, 0) as cost,
        coalesce(aggregated.treated_revenue, 0) as treated_revenue,
        coalesce(aggregated.holdout_revenue, 0) as holdout_revenue,
        coalesce(aggregated.treated_repurchasers, 0) as treated_repurchasers,
        coalesce(aggregated.holdout_repurchasers, 0) as holdout_repurchasers
    from campaigns
    left join aggregated
        on campaigns.campaign_id = aggregated.campaign_id

),

per_customer as (

    select
        *,
        {{ safe_divide('treated_revenue', 'treated_customers') }} as revenue_per_treated,
        {{ safe_divide('holdout_revenue', 'holdout_customers') }} as revenue_per_holdout
    from joined

),

incremental as (

    select
        *,
        -- NULL without a holdout (no counterfactual)
        (revenue_per_treated - revenue_per_holdout) * treated_customers as incremental_revenue
    from per_customer

),

final as (

    select
        cast(campaign_id as integer) as campaign_id,
        cast(campaign_name as varchar) as campaign_name,
        cast(campaign_type as varchar) as campaign_type,
        cast(campaign_channel as varchar) as campaign_channel,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        {{ bigints(['treated_customers', 'holdout_customers']) }},
        cast(holdout_customers > 0 as boolean) as has_holdout,
        cast(responses as bigint) as responses,
        cast({{ safe_divide('responses', 'treated_customers') }} as numeric(18, 6)) as response_rate,
        cast(cost as numeric(18, 2)) as cost,
        cast(treated_revenue as numeric(18, 2)) as treated_revenue,
        cast(revenue_per_treated as numeric(18, 6)) as revenue_per_treated,
        cast(revenue_per_holdout as numeric(18, 6)) as revenue_per_holdout,
        cast(incremental_revenue as numeric(18, 6)) as incremental_revenue,
        cast({{ safe_divide('incremental_revenue - cost', 'cost') }} as numeric(18, 6)) as roi,
        cast({{ safe_divide('treated_revenue - cost', 'cost') }} as numeric(18, 6)) as naive_roi,
        cast({{ safe_divide('treated_repurchasers', 'treated_customers') }} as numeric(18, 6)) as repurchase_rate_treated,
        cast({{ safe_divide('holdout_repurchasers', 'holdout_customers') }} as numeric(18, 6)) as repurchase_rate_holdout,
        {{ mart_metadata() }}
    from incremental

)

select * from final
