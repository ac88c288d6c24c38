
    select satisfaction_rate
    from "loyalty_wh_dev"."marts"."mart_recommendation"
    where satisfaction_rate < 0 or satisfaction_rate > 1
