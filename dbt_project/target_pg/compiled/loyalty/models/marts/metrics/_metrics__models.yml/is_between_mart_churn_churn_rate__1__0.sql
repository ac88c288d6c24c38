
    select churn_rate
    from "loyalty_wh_dev"."marts"."mart_churn"
    where churn_rate < 0 or churn_rate > 1
