
    select member_repurchase_rate
    from "loyalty_wh_dev"."marts"."mart_membership"
    where member_repurchase_rate < 0 or member_repurchase_rate > 1
