
    
    



select product_id
from "loyalty_wh_dev"."staging"."stg_shop__products"
where product_id is null


