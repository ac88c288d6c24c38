with

source as (

    select *
    from (
        select
            versions.*,
            row_number() over (partition by touch_id order by updated_at desc, _batch_id desc, _extracted_at desc) as _version_rank
        from "loyalty_wh_dev"."raw"."care_touches" as versions
        where versions._batch_id <= '2026-11-21'
    ) as ranked
    where _version_rank = 1

),

renamed as (

    select
        touch_id,
        campaign_id,
        customer_id,
        assigned_group,
        touch_cost as touch_cost_amount,
        assigned_group = 'holdout' as is_holdout,
        touched_at,
        cast(((touched_at) at time zone 'UTC') at time zone 'Asia/Shanghai' as date) as touched_date,
        responded_at,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed