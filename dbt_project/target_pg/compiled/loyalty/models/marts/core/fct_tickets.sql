
-- One row per ticket (newest state).
with

tickets as (

    select * from "loyalty_wh_dev"."staging"."stg_tickets__tickets"
    

),

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
        (cast(
        (
        (
        (
        ((resolved_at)::date - (created_at)::date)
     * 24 + date_part('hour', (resolved_at)::timestamp) - date_part('hour', (created_at)::timestamp))
     * 60 + date_part('minute', (resolved_at)::timestamp) - date_part('minute', (created_at)::timestamp))
     * 60 + floor(date_part('second', (resolved_at)::timestamp)) - floor(date_part('second', (created_at)::timestamp)))
     as float) / 3600.0) as resolution_hours,
        (cast(
        (
        (
        (
        ((first_response_at)::date - (created_at)::date)
     * 24 + date_part('hour', (first_response_at)::timestamp) - date_part('hour', (created_at)::timestamp))
     * 60 + date_part('minute', (first_response_at)::timestamp) - date_part('minute', (created_at)::timestamp))
     * 60 + floor(date_part('second', (first_response_at)::timestamp)) - floor(date_part('second', (created_at)::timestamp)))
     as float) / 3600.0) as first_response_hours,
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