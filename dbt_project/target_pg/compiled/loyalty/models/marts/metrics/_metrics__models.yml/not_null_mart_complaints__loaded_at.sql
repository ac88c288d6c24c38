
    
    



select _loaded_at
from "loyalty_wh_dev"."marts"."mart_complaints"
where _loaded_at is null


