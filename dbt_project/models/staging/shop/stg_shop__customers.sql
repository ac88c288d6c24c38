-- PII (name, phone, email) stays in staging only; downstream models use the salted hashes.
with

source as (

    {{ latest_version(source('shop', 'customers'), 'customer_id') }}

),

renamed as (

    select
        -- ids
        customer_id,

        -- strings
        name as customer_name,
        phone,
        email,
        gender,
        city,
        signup_channel,
        {{ pii_hash(regexp_replace_all('phone', "'[^0-9]'", "''")) }} as phone_hash,
        {{ pii_hash("lower(trim(email))") }} as email_hash,

        -- dates
        birth_date,

        -- timestamps
        registered_at,
        {{ to_business_date('registered_at') }} as registered_date,
        updated_at,

        -- load metadata
        _batch_id,
        _extracted_at

    from source

)

select * from renamed
