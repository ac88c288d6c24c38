
    
    



select customer_id
from "loyalty_wh_dev"."marts"."mart_customer_360"
where customer_id is null


