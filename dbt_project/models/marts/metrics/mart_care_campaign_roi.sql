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
        sum(case when is_holdout and has_window_order then 1 else 0 end) as holdout_repurchasers,
        -- sample variances (n - 1) of a customer's window revenue, 0 when they bought nothing
        var_samp(case when not is_holdout then cast(window_revenue_amount as {{ type_double() }}) end)
            as treated_revenue_variance,
        var_samp(case when is_holdout then cast(window_revenue_amount as {{ type_double() }}) end)
            as holdout_revenue_variance
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
        coalesce(aggregated.holdout_repurchasers, 0) as holdout_repurchasers,
        aggregated.treated_revenue_variance,
        aggregated.holdout_revenue_variance
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
        (revenue_per_treated - revenue_per_holdout) * treated_customers as incremental_revenue,
        {{ safe_divide('treated_repurchasers', 'treated_customers') }} as repurchase_rate_treated,
        {{ safe_divide('holdout_repurchasers', 'holdout_customers') }} as repurchase_rate_holdout,
        -- the uplift's uncertainty needs at least 2 customers in each group
        treated_customers >= 2 and holdout_customers >= 2 as has_uplift_sample
    from per_customer

),

uplift as (

    -- normal approximation of the difference of the two groups' means
    select
        *,
        case when has_uplift_sample then revenue_per_treated - revenue_per_holdout end as uplift_per_customer,
        case when has_uplift_sample then
            sqrt(treated_revenue_variance / treated_customers + holdout_revenue_variance / holdout_customers)
        end as uplift_std_error,
        case when has_uplift_sample then repurchase_rate_treated - repurchase_rate_holdout end as repurchase_uplift,
        case when has_uplift_sample then
            sqrt(repurchase_rate_treated * (1 - repurchase_rate_treated) / treated_customers
                 + repurchase_rate_holdout * (1 - repurchase_rate_holdout) / holdout_customers)
        end as repurchase_uplift_std_error
    from incremental

),

uplift_z as (

    select
        *,
        (uplift_per_customer - 1.96 * uplift_std_error) * treated_customers as incremental_revenue_ci_low,
        (uplift_per_customer + 1.96 * uplift_std_error) * treated_customers as incremental_revenue_ci_high,
        -- |z|; NULL when the standard error is 0 (no p-value)
        abs(uplift_per_customer / nullif(uplift_std_error, 0)) as uplift_abs_z
    from uplift

),

uplift_tests as (

    select
        *,
        -- two-sided p-value of z under the standard normal
        2 * {{ normal_upper_tail('uplift_abs_z') }} as uplift_p_value
    from uplift_z

),

final as (

    select
        cast(campaign_id as integer) as campaign_id,
        cast(campaign_name as {{ type_varchar() }}) as campaign_name,
        cast(campaign_type as {{ type_varchar() }}) as campaign_type,
        cast(campaign_channel as {{ type_varchar() }}) as campaign_channel,
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
        cast(repurchase_rate_treated as numeric(18, 6)) as repurchase_rate_treated,
        cast(repurchase_rate_holdout as numeric(18, 6)) as repurchase_rate_holdout,
        cast(uplift_per_customer as numeric(18, 6)) as uplift_per_customer,
        cast(uplift_std_error as numeric(18, 6)) as uplift_std_error,
        cast(incremental_revenue_ci_low as numeric(18, 6)) as incremental_revenue_ci_low,
        cast(incremental_revenue_ci_high as numeric(18, 6)) as incremental_revenue_ci_high,
        cast({{ safe_divide('incremental_revenue_ci_low - cost', 'cost') }} as numeric(18, 6)) as roi_ci_low,
        cast({{ safe_divide('incremental_revenue_ci_high - cost', 'cost') }} as numeric(18, 6)) as roi_ci_high,
        cast(uplift_p_value as numeric(18, 6)) as uplift_p_value,
        cast(uplift_p_value < {{ var('uplift_alpha') }} as boolean) as is_uplift_significant,
        cast(repurchase_uplift as numeric(18, 6)) as repurchase_uplift,
        cast(repurchase_uplift - 1.96 * repurchase_uplift_std_error as numeric(18, 6)) as repurchase_uplift_ci_low,
        cast(repurchase_uplift + 1.96 * repurchase_uplift_std_error as numeric(18, 6)) as repurchase_uplift_ci_high,
        {{ mart_metadata() }}
    from uplift_tests

)

select * from final
