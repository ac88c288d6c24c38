with

source as (

    {{ latest_version(source('shop', 'memberships'), 'member_id') }}

),

renamed as (

    select
        member_id,
        customer_id,
        tier as member_tier,
        status as member_status,
        joined_at,
        {{ to_business_date('joined_at') }} as joined_date,
        cancelled_at,
        {{ to_business_date('cancelled_at') }} as cancelled_date,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed
