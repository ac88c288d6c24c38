
    
    



select _batch_id
from "loyalty_wh_dev"."marts"."mart_care_campaign_roi"
where _batch_id is null


