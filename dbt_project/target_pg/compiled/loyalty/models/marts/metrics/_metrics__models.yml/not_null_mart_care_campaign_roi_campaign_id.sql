
    
    



select campaign_id
from "loyalty_wh_dev"."marts"."mart_care_campaign_roi"
where campaign_id is null


