{{ config(unique_key='points_entry_id') }}
-- One row per points ledger entry (+ earned, - spent).
with

points as ({{ changed_rows(ref('stg_shop__points_ledger')) }}),

final as (

    select
        points_entry_id,
        member_id,
        order_id,
        points_reason,
        points,
        occurred_date,
        occurred_at,
        updated_at,
        _batch_id as source_batch_id
    from points

)

select * from final
