
    
    



select store_id
from "loyalty_wh_dev"."core"."dim_stores"
where store_id is null


