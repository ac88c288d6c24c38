
    
    



select _batch_id
from "loyalty_wh_dev"."marts"."mart_complaints"
where _batch_id is null


