-- One row per referral invite, with the fraud rules of METRICS.md: the referee shares the
-- referrer's phone or email (salted hashes), or had a valid order before the invite.
with

referrals as (select * from "loyalty_wh_dev"."staging"."stg_shop__referrals"),

customers as (select * from "loyalty_wh_dev"."core"."dim_customers"),

orders as (select * from "loyalty_wh_dev"."core"."fct_orders"),

prior_orders as (

    select
        referrals.referral_id,
        count(*) as prior_valid_orders
    from referrals
    inner join orders
        on referrals.referee_customer_id = orders.customer_id
        and orders.is_valid
        and orders.ordered_at < referrals.invited_at
    group by referrals.referral_id

),

flagged as (

    select
        referrals.*,
        coalesce(
            (referrer.phone_hash is not null and referrer.phone_hash = referee.phone_hash)
            or (referrer.email_hash is not null and referrer.email_hash = referee.email_hash),
            false
        ) as has_shared_contact,
        coalesce(prior_orders.prior_valid_orders, 0) > 0 as has_prior_order
    from referrals
    left join customers as referrer
        on referrals.referrer_customer_id = referrer.customer_id
    left join customers as referee
        on referrals.referee_customer_id = referee.customer_id
    left join prior_orders
        on referrals.referral_id = prior_orders.referral_id

),

final as (

    select
        referral_id,
        referrer_customer_id,
        referee_customer_id,
        first_order_id,
        referral_code,
        referral_channel,
        referral_status,
        reward_amount,
        referral_status in ('registered', 'converted') as is_registered,
        referral_status = 'converted' as is_converted,
        has_shared_contact,
        has_prior_order,
        has_shared_contact or has_prior_order as is_suspicious,
        invited_date,
        rewarded_date,
        invited_at,
        rewarded_at,
        updated_at
    from flagged

)

select * from final