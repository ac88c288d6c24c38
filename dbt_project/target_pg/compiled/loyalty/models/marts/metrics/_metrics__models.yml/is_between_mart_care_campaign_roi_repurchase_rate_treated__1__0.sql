
    select repurchase_rate_treated
    from "loyalty_wh_dev"."marts"."mart_care_campaign_roi"
    where repurchase_rate_treated < 0 or repurchase_rate_treated > 1
