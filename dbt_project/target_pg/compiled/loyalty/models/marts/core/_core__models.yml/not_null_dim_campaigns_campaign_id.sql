
    
    



select campaign_id
from "loyalty_wh_dev"."core"."dim_campaigns"
where campaign_id is null


