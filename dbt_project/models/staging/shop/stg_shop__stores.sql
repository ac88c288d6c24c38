with

source as (

    {{ latest_version(source('shop', 'stores'), 'store_id') }}

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
