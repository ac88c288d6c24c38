{{ config(unique_key='order_id') }}
-- One row per order (latest landed version). Refunds flip is_valid months later: the
-- lookback on updated_at re-reads every changed order. No customer attributes here
-- (late-arriving customers): join dim_customers downstream.
with

orders as ({{ changed_rows(ref('stg_shop__orders')) }}),

final as (

    select
        order_id,
        customer_id,
        store_id,
        channel,
        order_status,
        referral_code,
        order_amount,
        discount_amount,
        is_valid,
        ordered_date,
        ordered_at,
        ordered_local_at,
        updated_at,
        _batch_id as source_batch_id
    from orders

)

select * from final
