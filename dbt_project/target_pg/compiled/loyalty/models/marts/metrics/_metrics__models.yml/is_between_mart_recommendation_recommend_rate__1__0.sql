
    select recommend_rate
    from "loyalty_wh_dev"."marts"."mart_recommendation"
    where recommend_rate < 0 or recommend_rate > 1
