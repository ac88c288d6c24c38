
    select conversion_rate
    from "loyalty_wh_dev"."marts"."mart_referrals"
    where conversion_rate < 0 or conversion_rate > 1
