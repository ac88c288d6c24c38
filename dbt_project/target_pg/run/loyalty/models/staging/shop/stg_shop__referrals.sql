
  create view "loyalty_wh_dev"."staging"."stg_shop__referrals__dbt_tmp"
    
    
  as (
    with

source as (

    select *
    from (
        select
            versions.*,
            row_number() over (partition by referral_id order by updated_at desc, _batch_id desc, _extracted_at desc) as _version_rank
        from "loyalty_wh_dev"."raw"."referrals" as versions
        where versions._batch_id <= '2026-11-21'
    ) as ranked
    where _version_rank = 1

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
        cast(((invited_at) at time zone 'UTC') at time zone 'Asia/Shanghai' as date) as invited_date,
        rewarded_at,
        cast(((rewarded_at) at time zone 'UTC') at time zone 'Asia/Shanghai' as date) as rewarded_date,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed
  );