
    
    



select _batch_id
from "loyalty_wh_dev"."marts"."mart_repurchase"
where _batch_id is null


