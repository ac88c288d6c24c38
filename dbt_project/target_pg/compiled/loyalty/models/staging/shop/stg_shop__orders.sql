with

source as (

    select *
    from (
        select
            versions.*,
            row_number() over (partition by order_id order by updated_at desc, _batch_id desc, _extracted_at desc) as _version_rank
        from "loyalty_wh_dev"."raw"."orders" as versions
        where versions._batch_id <= '2026-11-21'
    ) as ranked
    where _version_rank = 1

),

renamed as (

    select
        -- ids
        order_id,
        customer_id,
        store_id,

        -- strings
        channel,
        status as order_status,
        referral_code,

        -- numerics (CNY, DECIMAL end to end)
        total_amount as order_amount,
        discount_amount,

        -- booleans
        status not in ('cancelled', 'refunded') as is_valid,

        -- timestamps (UTC) and business-local date
        ordered_at,
        ((ordered_at) at time zone 'UTC') at time zone 'Asia/Shanghai' as ordered_local_at,
        cast(((ordered_at) at time zone 'UTC') at time zone 'Asia/Shanghai' as date) as ordered_date,
        updated_at,

        _batch_id,
        _extracted_at

    from source

)

select * from renamed