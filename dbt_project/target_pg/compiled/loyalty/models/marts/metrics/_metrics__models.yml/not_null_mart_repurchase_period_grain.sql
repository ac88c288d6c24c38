
    
    



select period_grain
from "loyalty_wh_dev"."marts"."mart_repurchase"
where period_grain is null


