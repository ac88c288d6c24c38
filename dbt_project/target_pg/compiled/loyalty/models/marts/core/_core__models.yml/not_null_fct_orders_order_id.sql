
    
    



select order_id
from "loyalty_wh_dev"."core"."fct_orders"
where order_id is null


