
    
    



select customer_id
from "loyalty_wh_dev"."staging"."stg_shop__customers"
where customer_id is null


