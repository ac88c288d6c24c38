
    select repurchase_rate
    from "loyalty_wh_dev"."marts"."mart_repurchase"
    where repurchase_rate < 0 or repurchase_rate > 1
