
    
    



select _loaded_at
from "loyalty_wh_dev"."marts"."mart_membership"
where _loaded_at is null


