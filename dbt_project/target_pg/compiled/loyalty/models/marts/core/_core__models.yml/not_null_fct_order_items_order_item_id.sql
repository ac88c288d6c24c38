
    
    



select order_item_id
from "loyalty_wh_dev"."core"."fct_order_items"
where order_item_id is null


