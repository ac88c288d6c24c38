{{ config(unique_key='order_item_id') }}
-- One row per order line (latest landed version).
with

order_items as ({{ changed_rows(ref('stg_shop__order_items')) }}),

final as (

    select
        order_item_id,
        order_id,
        product_id,
        quantity,
        unit_price_amount,
        line_amount,
        updated_at,
        _batch_id as source_batch_id
    from order_items

)

select * from final
