with

source as (

    {{ latest_version(source('tickets', 'tickets'), 'ticket_id') }}

),

renamed as (

    select
        -- ids
        ticket_id,
        customer_id,
        order_id,

        -- strings
        category as ticket_category,
        severity,
        channel as ticket_channel,
        status as ticket_status,

        -- numerics
        reopen_count,
        compensation_amount,
        satisfaction_after,

        -- timestamps (UTC) and business-local dates
        created_at,
        {{ to_business_date('created_at') }} as created_date,
        first_response_at,
        resolved_at,
        {{ to_business_date('resolved_at') }} as resolved_date,
        updated_at,

        _batch_id,
        _extracted_at

    from source

)

select * from renamed
