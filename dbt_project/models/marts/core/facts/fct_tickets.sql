{{ config(unique_key='ticket_id') }}
-- One row per ticket (newest state).
with

tickets as ({{ changed_rows(ref('stg_tickets__tickets')) }}),

final as (

    select
        ticket_id,
        customer_id,
        order_id,
        ticket_category,
        severity,
        ticket_channel,
        ticket_status,
        reopen_count,
        compensation_amount,
        satisfaction_after,
        {{ hours_between('created_at', 'resolved_at') }} as resolution_hours,
        {{ hours_between('created_at', 'first_response_at') }} as first_response_hours,
        ticket_status in ('open', 'pending') as is_open,
        created_date,
        resolved_date,
        created_at,
        first_response_at,
        resolved_at,
        updated_at,
        _batch_id as source_batch_id
    from tickets

)

select * from final
