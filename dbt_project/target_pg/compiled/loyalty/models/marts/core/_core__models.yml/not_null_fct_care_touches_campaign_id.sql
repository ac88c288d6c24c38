
    
    



select campaign_id
from "loyalty_wh_dev"."core"."fct_care_touches"
where campaign_id is null


