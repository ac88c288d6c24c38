
    
    



select _loaded_at
from "loyalty_wh_dev"."marts"."mart_repurchase"
where _loaded_at is null


