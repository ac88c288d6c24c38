
    
    



select _loaded_at
from "loyalty_wh_dev"."marts"."mart_customer_360"
where _loaded_at is null


