with

source as (

    select *
    from (
        select
            versions.*,
            row_number() over (partition by store_id order by updated_at desc, _batch_id desc, _extracted_at desc) as _version_rank
        from "loyalty_wh_dev"."raw"."stores" as versions
        where versions._batch_id <= '2026-11-21'
    ) as ranked
    where _version_rank = 1

),

renamed as (

    select
        store_id,
        store_name,
        city,
        opened_at as opened_date,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed