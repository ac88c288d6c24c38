
    
    



select response_id
from "loyalty_wh_dev"."staging"."stg_surveys__survey_responses"
where response_id is null


