-- One row per customer, as of the business date. No raw PII (salted hashes only).
-- RFM: quintile scores (5 = best) over customers with at least one valid order;
-- recency = days since last valid order (fewer is better).
with

customers as (

    select * from {{ ref('dim_customers') }}
    where registered_date <= {{ business_date() }}

),

members as (

    select * from {{ ref('dim_members') }}
    where is_current

),

member_tier_now as (

    select spells.customer_id, spells.member_tier
    from {{ ref('dim_members') }} as spells
    where spells.valid_from < {{ from_business_time('cast(' ~ business_date_end() ~ ' as timestamp)') }}
        and (spells.valid_to is null
             or spells.valid_to >= {{ from_business_time('cast(' ~ business_date_end() ~ ' as timestamp)') }})

),

orders as (

    select * from {{ ref('fct_orders') }}
    where is_valid
        and ordered_date <= {{ business_date() }}

),

responses as (

    select * from {{ ref('fct_survey_responses') }}
    where submitted_date <= {{ business_date() }}
        and customer_id is not null

),

tickets as (

    select * from {{ ref('fct_tickets') }}
    where created_date <= {{ business_date() }}
        and customer_id is not null

),

referrals as (

    select * from {{ ref('fct_referrals') }}
    where invited_date <= {{ business_date() }}

),

touches as (

    select * from {{ ref('fct_care_touches') }}
    where touched_date <= {{ business_date() }}
        and not is_holdout

),

order_stats as (

    select
        customer_id,
        min(ordered_date) as first_order_date,
        max(ordered_date) as last_order_date,
        count(*) as orders,
        sum(order_amount) as revenue
    from orders
    group by customer_id

),

latest_nps as (

    select customer_id, nps_score from (
        select customer_id, nps_score,
            row_number() over (partition by customer_id order by submitted_at desc, response_id desc) as rn
        from responses where nps_score is not null
    ) as ranked
    where rn = 1

),

latest_satisfaction as (

    select customer_id, satisfaction_score from (
        select customer_id, satisfaction_score,
            row_number() over (partition by customer_id order by submitted_at desc, response_id desc) as rn
        from responses where satisfaction_score is not null
    ) as ranked
    where rn = 1

),

ticket_stats as (

    select customer_id, count(*) as complaints, sum(case when is_open then 1 else 0 end) as open_complaints
    from tickets
    group by customer_id

),

referral_stats as (

    select referrer_customer_id as customer_id, count(*) as referrals_made,
        sum(case when is_converted then 1 else 0 end) as referrals_converted
    from referrals
    group by referrer_customer_id

),

touch_stats as (

    select customer_id, count(*) as care_touches_received
    from touches
    group by customer_id

),

base as (

    select
        customers.customer_id,
        customers.phone_hash,
        customers.email_hash,
        customers.gender,
        customers.city,
        customers.signup_channel,
        customers.registered_date,
        members.member_id,
        member_tier_now.member_tier,
        members.member_status,
        members.joined_date,
        order_stats.first_order_date,
        order_stats.last_order_date,
        coalesce(order_stats.orders, 0) as orders,
        coalesce(order_stats.revenue, 0) as revenue,
        {{ dbt.datediff('order_stats.last_order_date', business_date(), 'day') }} as days_since_last_order,
        latest_nps.nps_score as latest_nps_score,
        latest_satisfaction.satisfaction_score as latest_satisfaction_score,
        coalesce(ticket_stats.complaints, 0) as complaints,
        coalesce(ticket_stats.open_complaints, 0) as open_complaints,
        coalesce(referral_stats.referrals_made, 0) as referrals_made,
        coalesce(referral_stats.referrals_converted, 0) as referrals_converted,
        coalesce(touch_stats.care_touches_received, 0) as care_touches_received
    from customers
    left join members on customers.customer_id = members.customer_id
    left join member_tier_now on customers.customer_id = member_tier_now.customer_id
    left join order_stats on customers.customer_id = order_stats.customer_id
    left join latest_nps on customers.customer_id = latest_nps.customer_id
    left join latest_satisfaction on customers.customer_id = latest_satisfaction.customer_id
    left join ticket_stats on customers.customer_id = ticket_stats.customer_id
    left join referral_stats on customers.customer_id = referral_stats.customer_id
    left join touch_stats on customers.customer_id = touch_stats.customer_id

),

scored as (

    select
        base.*,
        case when orders > 0 then ntile(5) over (
            partition by case when orders > 0 then 1 else 0 end
            order by days_since_last_order desc, customer_id) end as recency_score,
        case when orders > 0 then ntile(5) over (
            partition by case when orders > 0 then 1 else 0 end
            order by orders, customer_id) end as frequency_score,
        case when orders > 0 then ntile(5) over (
            partition by case when orders > 0 then 1 else 0 end
            order by revenue, customer_id) end as monetary_score
    from base

),

final as (

    select
        cast(customer_id as bigint) as customer_id,
        cast(phone_hash as {{ type_varchar() }}) as phone_hash,
        cast(email_hash as {{ type_varchar() }}) as email_hash,
        cast(gender as {{ type_varchar() }}) as gender,
        cast(city as {{ type_varchar() }}) as city,
        cast(signup_channel as {{ type_varchar() }}) as signup_channel,
        cast(registered_date as date) as registered_date,
        cast(member_id as bigint) as member_id,
        cast(member_tier as {{ type_varchar() }}) as member_tier,
        cast(member_status as {{ type_varchar() }}) as member_status,
        cast(joined_date as date) as joined_date,
        cast(first_order_date as date) as first_order_date,
        cast(last_order_date as date) as last_order_date,
        cast(orders as bigint) as orders,
        cast(revenue as numeric(18, 2)) as revenue,
        cast({{ safe_divide('revenue', 'orders') }} as numeric(18, 6)) as avg_order_value,
        cast(days_since_last_order as integer) as days_since_last_order,
        -- active at the end of the business date: a valid order in the last active_days days
        cast(coalesce(days_since_last_order < {{ var('active_days') }}, false) as boolean) as is_active,
        cast(recency_score as integer) as recency_score,
        cast(frequency_score as integer) as frequency_score,
        cast(monetary_score as integer) as monetary_score,
        cast(case
            when orders = 0 then 'prospect'
            when recency_score >= 4 and frequency_score >= 4 then 'champions'
            when recency_score >= 3 and frequency_score >= 3 then 'loyal'
            when recency_score >= 4 and frequency_score <= 2 then 'new_or_promising'
            when recency_score <= 2 and frequency_score >= 3 then 'at_risk'
            when recency_score <= 2 and frequency_score <= 2 then 'hibernating'
            else 'needs_attention'
        end as {{ type_varchar() }}) as rfm_segment,
        cast(latest_nps_score as integer) as latest_nps_score,
        cast(latest_satisfaction_score as integer) as latest_satisfaction_score,
        {{ bigints(['complaints', 'open_complaints', 'referrals_made', 'referrals_converted', 'care_touches_received']) }},
        {{ mart_metadata() }}
    from scored

)

select * from final
