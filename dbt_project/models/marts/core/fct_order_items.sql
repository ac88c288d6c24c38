{{
    config(
        materialized='incremental',
        unique_key='order_item_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- One row per order line (latest landed version).
with

order_items as (

    select * from {{ ref('stg_shop__order_items') }}
    {% if is_incremental() %}
    where {{ incremental_since('updated_at') }}
    {% endif %}

),

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
