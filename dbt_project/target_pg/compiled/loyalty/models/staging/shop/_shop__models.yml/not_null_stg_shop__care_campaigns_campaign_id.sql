
    
    



select campaign_id
from "loyalty_wh_dev"."staging"."stg_shop__care_campaigns"
where campaign_id is null


