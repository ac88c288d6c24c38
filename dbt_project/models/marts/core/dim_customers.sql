{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='customer_id',
        on_schema_change='fail'
    )
}}
-- One row per customer. No raw PII: name, phone and email stay in staging; the salted
-- hashes of phone/email are kept for matching (e.g. referral fraud rules).
-- Incremental: a night recomputes the customers whose record changed since the newest version
-- already loaded (minus the lookback, as the facts) and those whose membership is not the one
-- their row holds (a new member); every other row stays as it is. A full build computes all.
with

customers as (select * from {{ ref('stg_shop__customers') }}),

memberships as (select * from {{ ref('stg_shop__memberships') }}),

{% if incremental_night() %}
-- the rows built so far (this model's own table)
built as (select customer_id, member_id from {{ this }}),

changed_customers as (

    select customer_id from customers
    where {{ incremental_since('updated_at') }}

    union

    select memberships.customer_id
    from memberships
    left join built
        on memberships.customer_id = built.customer_id
    where built.member_id is null
        or built.member_id <> memberships.member_id

    union

    -- a row with a member whose membership is gone
    select built.customer_id
    from built
    where built.member_id is not null
        and built.customer_id not in (
            select memberships.customer_id from memberships where memberships.customer_id is not null
        )

),

computed_customers as (

    select * from customers
    where customer_id in (select customer_id from changed_customers)

),
{% else %}
computed_customers as (select * from customers),
{% endif %}

final as (

    select
        computed_customers.customer_id,
        memberships.member_id,
        computed_customers.phone_hash,
        computed_customers.email_hash,
        computed_customers.gender,
        computed_customers.city,
        computed_customers.signup_channel,
        memberships.member_id is not null as has_membership,
        computed_customers.birth_date,
        computed_customers.registered_date,
        computed_customers.registered_at,
        computed_customers.updated_at
    from computed_customers
    left join memberships
        on computed_customers.customer_id = memberships.customer_id

)

select * from final
