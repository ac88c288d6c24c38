
    
    



select order_id
from "loyalty_wh_dev"."staging"."stg_shop__orders"
where order_id is null


