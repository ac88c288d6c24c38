-- The newest delivery of each response_id wins: latest batch, then file, then record.
with

source as (

    select *
    from (
        select
            versions.*,
            row_number() over (partition by response_id order by _batch_id desc, _source_file desc, _source_line desc) as _version_rank
        from "loyalty_wh_dev"."raw"."survey_responses" as versions
        where versions._batch_id <= '2026-11-21'
    ) as ranked
    where _version_rank = 1

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
        cast(((submitted_at) at time zone 'UTC') at time zone 'Asia/Shanghai' as date) as submitted_date,

        _batch_id,
        _extracted_at,
        _source_file,
        _source_line

    from source

)

select * from renamed