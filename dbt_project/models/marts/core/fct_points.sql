{{
    config(
        materialized='incremental',
        unique_key='points_entry_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}
-- One row per points ledger entry (+ earned, - spent).
with

points as (

    select * from {{ ref('stg_shop__points_ledger') }}
    {% if is_incremental() %}
    where {{ incremental_since('updated_at') }}
    {% endif %}

),

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
