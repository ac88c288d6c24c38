
    
    



select _loaded_at
from "loyalty_wh_dev"."marts"."mart_care_campaign_roi"
where _loaded_at is null


