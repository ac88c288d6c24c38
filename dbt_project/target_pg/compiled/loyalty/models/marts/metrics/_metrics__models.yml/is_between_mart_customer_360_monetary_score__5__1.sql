
    select monetary_score
    from "loyalty_wh_dev"."marts"."mart_customer_360"
    where monetary_score < 1 or monetary_score > 5
