
    select nps_score
    from "loyalty_wh_dev"."core"."fct_survey_responses"
    where nps_score < 0 or nps_score > 10
