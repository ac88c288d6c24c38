-- The newest delivery of each response_id wins: latest batch, then file, then record.
with

source as (

    {{ latest_version(source('surveys', 'survey_responses'), 'response_id',
                      '_batch_id desc, _source_file desc, _source_line desc') }}

),

renamed as (

    select
        -- ids
        response_id,
        survey_id,
        customer_id,
        order_id,

        -- strings
        channel as survey_channel,
        repurchase_intent,
        comment as response_comment,

        -- numerics
        nps_score,
        satisfaction as satisfaction_score,

        -- timestamps (UTC; converted at landing) and business-local date
        submitted_at,
        {{ to_business_date('submitted_at') }} as submitted_date,

        _batch_id,
        _extracted_at,
        _source_file,
        _source_line

    from source

)

select * from renamed
