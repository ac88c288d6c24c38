with

source as (

    {{ latest_version(source('shop', 'care_campaigns'), 'campaign_id') }}

),

renamed as (

    select
        campaign_id,
        campaign_name,
        campaign_type,
        channel as campaign_channel,
        fixed_cost as fixed_cost_amount,
        start_date,
        end_date,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed
