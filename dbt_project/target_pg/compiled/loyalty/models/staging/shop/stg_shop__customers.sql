-- PII (name, phone, email) stays in staging only; downstream models use the salted hashes.
with

source as (

    select *
    from (
        select
            versions.*,
            row_number() over (partition by customer_id order by updated_at desc, _batch_id desc, _extracted_at desc) as _version_rank
        from "loyalty_wh_dev"."raw"."customers" as versions
        where versions._batch_id <= '2026-11-21'
    ) as ranked
    where _version_rank = 1

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
        case when regexp_replace(phone, '[^0-9]', '', 'g') is null or regexp_replace(phone, '[^0-9]', '', 'g') = '' then null
         else md5(cast('devsalt' || regexp_replace(phone, '[^0-9]', '', 'g') as TEXT))
    end as phone_hash,
        case when lower(trim(email)) is null or lower(trim(email)) = '' then null
         else md5(cast('devsalt' || lower(trim(email)) as TEXT))
    end as email_hash,

        -- dates
        birth_date,

        -- timestamps
        registered_at,
        cast(((registered_at) at time zone 'UTC') at time zone 'Asia/Shanghai' as date) as registered_date,
        updated_at,

        -- load metadata
        _batch_id,
        _extracted_at

    from source

)

select * from renamed