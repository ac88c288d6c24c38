with

source as (

    select *
    from (
        select
            versions.*,
            row_number() over (partition by entry_id order by updated_at desc, _batch_id desc, _extracted_at desc) as _version_rank
        from "loyalty_wh_dev"."raw"."points_ledger" as versions
        where versions._batch_id <= '2026-11-21'
    ) as ranked
    where _version_rank = 1

),

renamed as (

    select
        entry_id as points_entry_id,
        member_id,
        order_id,
        reason as points_reason,
        points,
        occurred_at,
        cast(((occurred_at) at time zone 'UTC') at time zone 'Asia/Shanghai' as date) as occurred_date,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed