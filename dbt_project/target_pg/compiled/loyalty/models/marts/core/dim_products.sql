-- One row per product.
with

products as (select * from "loyalty_wh_dev"."staging"."stg_shop__products"),

final as (

    select
        product_id,
        product_name,
        product_category,
        list_price_amount,
        updated_at
    from products

)

select * from final