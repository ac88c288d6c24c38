-- One row per customer. No raw PII: name, phone and email stay in staging; the salted
-- hashes of phone/email are kept for matching (e.g. referral fraud rules).
with

customers as (select * from {{ ref('stg_shop__customers') }}),

memberships as (select * from {{ ref('stg_shop__memberships') }}),

final as (

    select
        customers.customer_id,
        memberships.member_id,
        customers.phone_hash,
        customers.email_hash,
        customers.gender,
        customers.city,
        customers.signup_channel,
        memberships.member_id is not null as has_membership,
        customers.birth_date,
        customers.registered_date,
        customers.registered_at,
        customers.updated_at
    from customers
    left join memberships
        on customers.customer_id = memberships.customer_id

)

select * from final
