with

source as (

    {{ latest_version(source('shop', 'referrals'), 'referral_id') }}

),

renamed as (

    select
        referral_id,
        referrer_customer_id,
        referee_customer_id,
        first_order_id,
        referral_code,
        channel as referral_channel,
        status as referral_status,
        reward_amount,
        invited_at,
        {{ to_business_date('invited_at') }} as invited_date,
        rewarded_at,
        {{ to_business_date('rewarded_at') }} as rewarded_date,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed
