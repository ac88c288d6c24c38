
    
    



select response_id
from "loyalty_wh_dev"."core"."fct_survey_responses"
where response_id is null


