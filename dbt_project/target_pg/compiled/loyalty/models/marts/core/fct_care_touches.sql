-- One row per care touch (treatment or holdout).
with

touches as (select * from "loyalty_wh_dev"."staging"."stg_shop__care_touches"),

final as (

    select
        touch_id,
        campaign_id,
        customer_id,
        assigned_group,
        touch_cost_amount,
        is_holdout,
        responded_at is not null as has_responded,
        touched_date,
        touched_at,
        responded_at,
        updated_at
    from touches

)

select * from final