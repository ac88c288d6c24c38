
    select customer_id, channel_key, island_number, count(*) as n_rows
    from "loyalty_wh_dev"."intermediate"."int_customer_activity_islands"
    group by customer_id, channel_key, island_number
    having count(*) > 1
