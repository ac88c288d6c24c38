
    
    



select period_grain
from "loyalty_wh_dev"."marts"."mart_recommendation"
where period_grain is null


