
    
    



select period_start
from "loyalty_wh_dev"."marts"."mart_repurchase"
where period_start is null


