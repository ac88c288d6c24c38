
    
    



select order_item_id
from "loyalty_wh_dev"."staging"."stg_shop__order_items"
where order_item_id is null


