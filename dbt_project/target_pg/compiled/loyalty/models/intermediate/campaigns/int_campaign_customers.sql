-- One row per campaign and customer: the customer's first touch decides the group and
-- the attribution window [first touched_at, + attribution_days); revenue = their valid
-- orders inside the window (up to the business date). Touch costs of every touch count.
with

touches as (

    select * from "loyalty_wh_dev"."core"."fct_care_touches"
    where touched_date <= cast('2026-11-21' as date)

),

orders as (

    select * from "loyalty_wh_dev"."core"."fct_orders"
    where is_valid
        and ordered_date <= cast('2026-11-21' as date)

),

ranked as (

    select
        touches.*,
        row_number() over (partition by campaign_id, customer_id order by touched_at, touch_id) as touch_rank
    from touches

),

per_customer as (

    select
        campaign_id,
        customer_id,
        sum(touch_cost_amount) as touch_cost_amount,
        count(*) as touches,
        max(case when responded_at is not null
                  and cast(((responded_at) at time zone 'UTC') at time zone 'Asia/Shanghai' as date) <= cast('2026-11-21' as date) then 1 else 0 end) as has_responded
    from touches
    group by campaign_id, customer_id

),

first_touches as (

    select
        ranked.campaign_id,
        ranked.customer_id,
        ranked.assigned_group,
        ranked.touched_at as first_touched_at,
        

    ranked.touched_at + ((interval '1 day') * (30))

 as window_end_at
    from ranked
    where ranked.touch_rank = 1

),

window_orders as (

    select
        first_touches.campaign_id,
        first_touches.customer_id,
        count(orders.order_id) as window_orders,
        sum(orders.order_amount) as window_revenue
    from first_touches
    inner join orders
        on orders.customer_id = first_touches.customer_id
        and orders.ordered_at >= first_touches.first_touched_at
        and orders.ordered_at < first_touches.window_end_at
    group by first_touches.campaign_id, first_touches.customer_id

),

final as (

    select
        first_touches.campaign_id,
        first_touches.customer_id,
        first_touches.assigned_group,
        first_touches.assigned_group = 'holdout' as is_holdout,
        per_customer.has_responded = 1 as has_responded,
        coalesce(window_orders.window_orders, 0) > 0 as has_window_order,
        per_customer.touches,
        per_customer.touch_cost_amount,
        coalesce(window_orders.window_orders, 0) as window_orders,
        coalesce(window_orders.window_revenue, 0) as window_revenue_amount,
        first_touches.first_touched_at,
        cast(first_touches.window_end_at as timestamp) as window_end_at
    from first_touches
    inner join per_customer
        on first_touches.campaign_id = per_customer.campaign_id
        and first_touches.customer_id = per_customer.customer_id
    left join window_orders
        on first_touches.campaign_id = window_orders.campaign_id
        and first_touches.customer_id = window_orders.customer_id

)

select * from final