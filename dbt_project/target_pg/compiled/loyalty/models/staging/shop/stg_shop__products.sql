with

source as (

    select *
    from (
        select
            versions.*,
            row_number() over (partition by product_id order by updated_at desc, _batch_id desc, _extracted_at desc) as _version_rank
        from "loyalty_wh_dev"."raw"."products" as versions
        where versions._batch_id <= '2026-11-21'
    ) as ranked
    where _version_rank = 1

),

renamed as (

    select
        product_id,
        product_name,
        category as product_category,
        list_price as list_price_amount,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed