
    select period_grain, period_start, customer_id, channel_key, count(*) as n_rows
    from "loyalty_wh_dev"."intermediate"."int_customer_periods"
    group by period_grain, period_start, customer_id, channel_key
    having count(*) > 1
