
    select nps
    from "loyalty_wh_dev"."marts"."mart_recommendation"
    where nps < -100 or nps > 100
