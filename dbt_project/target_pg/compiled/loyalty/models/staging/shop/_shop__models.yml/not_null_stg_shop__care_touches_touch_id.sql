
    
    



select touch_id
from "loyalty_wh_dev"."staging"."stg_shop__care_touches"
where touch_id is null


