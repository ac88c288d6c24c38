
    
    



select _batch_id
from "loyalty_wh_dev"."marts"."mart_membership"
where _batch_id is null


