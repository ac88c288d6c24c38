
    
    



select touch_id
from "loyalty_wh_dev"."core"."fct_care_touches"
where touch_id is null


