{{ config(unique_key='response_id') }}
-- One row per survey response (newest delivery of each response_id). A corrected
-- re-delivery lands in a newer batch with the old submitted_at, so the incremental
-- filter is on the landing batch, not on a source timestamp.
with

responses as (

    {%- set since_the_last_batch -%}
    cast(_batch_id as date) >= (
        select cast({{ dbt.dateadd('day', -1 * var('incremental_lookback_days') | int,
                                   "cast(coalesce(max(source_batch_id), '1900-01-01') as date)") }} as date)
        from {{ this }}
    )
    {%- endset %}
    {{ changed_rows(ref('stg_surveys__survey_responses'), since=since_the_last_batch) }}

),

final as (

    select
        response_id,
        survey_id,
        customer_id,
        order_id,
        survey_channel,
        repurchase_intent,
        nps_score,
        satisfaction_score,
        case
            when nps_score between 9 and 10 then 'promoter'
            when nps_score between 7 and 8 then 'passive'
            when nps_score between 0 and 6 then 'detractor'
        end as nps_category,
        nps_score between 0 and 10 as has_valid_nps,
        customer_id is null as is_anonymous,
        submitted_date,
        submitted_at,
        _batch_id as source_batch_id,
        _source_file as source_file,
        _source_line as source_line
    from responses

)

select * from final
