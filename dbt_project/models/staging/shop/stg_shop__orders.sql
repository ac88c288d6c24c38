with

source as (

    {{ latest_version(source('shop', 'orders'), 'order_id') }}

),

renamed as (

    select
        -- ids
        order_id,
        customer_id,
        store_id,

        -- strings
        channel,
        status as order_status,
        referral_code,

        -- numerics (CNY, DECIMAL end to end)
        total_amount as order_amount,
        discount_amount,

        -- booleans
        status not in ('cancelled', 'refunded') as is_valid,

        -- timestamps (UTC) and business-local date
        ordered_at,
        {{ to_business_time('ordered_at') }} as ordered_local_at,
        {{ to_business_date('ordered_at') }} as ordered_date,
        updated_at,

        _batch_id,
        _extracted_at

    from source

)

select * from renamed
