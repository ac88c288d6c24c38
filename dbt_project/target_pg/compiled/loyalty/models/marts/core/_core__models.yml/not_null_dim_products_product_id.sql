
    
    



select product_id
from "loyalty_wh_dev"."core"."dim_products"
where product_id is null


