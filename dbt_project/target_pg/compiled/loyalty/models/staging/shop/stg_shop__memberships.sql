with

source as (

    select *
    from (
        select
            versions.*,
            row_number() over (partition by member_id order by updated_at desc, _batch_id desc, _extracted_at desc) as _version_rank
        from "loyalty_wh_dev"."raw"."memberships" as versions
        where versions._batch_id <= '2026-11-21'
    ) as ranked
    where _version_rank = 1

),

renamed as (

    select
        member_id,
        customer_id,
        tier as member_tier,
        status as member_status,
        joined_at,
        cast(((joined_at) at time zone 'UTC') at time zone 'Asia/Shanghai' as date) as joined_date,
        cancelled_at,
        cast(((cancelled_at) at time zone 'UTC') at time zone 'Asia/Shanghai' as date) as cancelled_date,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed