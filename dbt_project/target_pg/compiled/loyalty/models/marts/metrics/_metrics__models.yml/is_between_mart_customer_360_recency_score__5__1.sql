
    select recency_score
    from "loyalty_wh_dev"."marts"."mart_customer_360"
    where recency_score < 1 or recency_score > 5
