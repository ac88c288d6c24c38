with

source as (

    select *
    from (
        select
            versions.*,
            row_number() over (partition by ticket_id order by updated_at desc, _batch_id desc, _extracted_at desc) as _version_rank
        from "loyalty_wh_dev"."raw"."tickets" as versions
        where versions._batch_id <= '2026-11-21'
    ) as ranked
    where _version_rank = 1

),

renamed as (

    select
        -- ids
        ticket_id,
        customer_id,
        order_id,

        -- strings
        category as ticket_category,
        severity,
        channel as ticket_channel,
        status as ticket_status,

        -- numerics
        reopen_count,
        compensation_amount,
        satisfaction_after,

        -- timestamps (UTC) and business-local dates
        created_at,
        cast(((created_at) at time zone 'UTC') at time zone 'Asia/Shanghai' as date) as created_date,
        first_response_at,
        resolved_at,
        cast(((resolved_at) at time zone 'UTC') at time zone 'Asia/Shanghai' as date) as resolved_date,
        updated_at,

        _batch_id,
        _extracted_at

    from source

)

select * from renamed