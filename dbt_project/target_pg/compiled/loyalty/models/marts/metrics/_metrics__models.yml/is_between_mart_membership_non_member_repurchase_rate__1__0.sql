
    select non_member_repurchase_rate
    from "loyalty_wh_dev"."marts"."mart_membership"
    where non_member_repurchase_rate < 0 or non_member_repurchase_rate > 1
