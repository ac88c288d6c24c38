
    select frequency_score
    from "loyalty_wh_dev"."marts"."mart_customer_360"
    where frequency_score < 1 or frequency_score > 5
