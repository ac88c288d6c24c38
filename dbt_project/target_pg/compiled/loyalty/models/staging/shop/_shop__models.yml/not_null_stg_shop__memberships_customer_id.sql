
    
    



select customer_id
from "loyalty_wh_dev"."staging"."stg_shop__memberships"
where customer_id is null


