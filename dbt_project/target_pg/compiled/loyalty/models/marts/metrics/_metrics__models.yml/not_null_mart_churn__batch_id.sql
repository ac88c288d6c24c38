
    
    



select _batch_id
from "loyalty_wh_dev"."marts"."mart_churn"
where _batch_id is null


