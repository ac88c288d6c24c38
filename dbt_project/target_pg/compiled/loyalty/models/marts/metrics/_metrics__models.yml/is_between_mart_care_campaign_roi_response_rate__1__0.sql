
    select response_rate
    from "loyalty_wh_dev"."marts"."mart_care_campaign_roi"
    where response_rate < 0 or response_rate > 1
