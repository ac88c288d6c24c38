
    
    



select _batch_id
from "loyalty_wh_dev"."marts"."mart_customer_360"
where _batch_id is null


