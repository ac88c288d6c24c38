
  create view "loyalty_wh_dev"."staging"."stg_shop__order_items__dbt_tmp"
    
    
  as (
    with

source as (

    select *
    from (
        select
            versions.*,
            row_number() over (partition by order_item_id order by updated_at desc, _batch_id desc, _extracted_at desc) as _version_rank
        from "loyalty_wh_dev"."raw"."order_items" as versions
        where versions._batch_id <= '2026-11-21'
    ) as ranked
    where _version_rank = 1

),

renamed as (

    select
        order_item_id,
        order_id,
        product_id,
        quantity,
        unit_price as unit_price_amount,
        cast(quantity * unit_price as decimal(14, 2)) as line_amount,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed
  );