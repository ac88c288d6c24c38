with

source as (

    {{ latest_version(source('shop', 'order_items'), 'order_item_id') }}

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
