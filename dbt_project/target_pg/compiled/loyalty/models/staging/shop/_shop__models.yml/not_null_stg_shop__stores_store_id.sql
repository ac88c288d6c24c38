
    
    



select store_id
from "loyalty_wh_dev"."staging"."stg_shop__stores"
where store_id is null


