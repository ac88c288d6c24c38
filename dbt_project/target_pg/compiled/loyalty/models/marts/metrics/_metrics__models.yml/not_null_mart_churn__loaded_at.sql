
    
    



select _loaded_at
from "loyalty_wh_dev"."marts"."mart_churn"
where _loaded_at is null


