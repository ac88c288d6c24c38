with

source as (

    {{ latest_version(source('shop', 'points_ledger'), 'entry_id') }}

),

renamed as (

    select
        entry_id as points_entry_id,
        member_id,
        order_id,
        reason as points_reason,
        points,
        occurred_at,
        {{ to_business_date('occurred_at') }} as occurred_date,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed
