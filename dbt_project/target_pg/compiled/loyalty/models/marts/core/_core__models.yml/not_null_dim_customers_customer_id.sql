
    
    



select customer_id
from "loyalty_wh_dev"."core"."dim_customers"
where customer_id is null


