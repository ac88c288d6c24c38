with

source as (

    {{ latest_version(source('shop', 'products'), 'product_id') }}

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
