
    select campaign_id, customer_id, count(*) as n_rows
    from "loyalty_wh_dev"."intermediate"."int_campaign_customers"
    group by campaign_id, customer_id
    having count(*) > 1
