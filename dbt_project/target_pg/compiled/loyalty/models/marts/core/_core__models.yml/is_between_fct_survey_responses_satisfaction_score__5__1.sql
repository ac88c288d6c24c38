
    select satisfaction_score
    from "loyalty_wh_dev"."core"."fct_survey_responses"
    where satisfaction_score < 1 or satisfaction_score > 5
