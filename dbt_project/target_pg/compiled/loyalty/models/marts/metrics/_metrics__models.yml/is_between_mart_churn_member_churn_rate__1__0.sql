
    select member_churn_rate
    from "loyalty_wh_dev"."marts"."mart_churn"
    where member_churn_rate < 0 or member_churn_rate > 1
