with

source as (

    {{ latest_version(source('shop', 'care_touches'), 'touch_id') }}

),

renamed as (

    select
        touch_id,
        campaign_id,
        customer_id,
        assigned_group,
        touch_cost as touch_cost_amount,
        assigned_group = 'holdout' as is_holdout,
        touched_at,
        {{ to_business_date('touched_at') }} as touched_date,
        responded_at,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed
