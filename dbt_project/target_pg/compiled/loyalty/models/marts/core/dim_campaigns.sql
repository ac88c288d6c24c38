-- One row per care campaign.
with

campaigns as (select * from "loyalty_wh_dev"."staging"."stg_shop__care_campaigns"),

final as (

    select
        campaign_id,
        campaign_name,
        campaign_type,
        campaign_channel,
        fixed_cost_amount,
        start_date,
        end_date,
        updated_at
    from campaigns

)

select * from final