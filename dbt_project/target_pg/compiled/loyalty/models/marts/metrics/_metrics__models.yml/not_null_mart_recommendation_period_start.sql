
    
    



select period_start
from "loyalty_wh_dev"."marts"."mart_recommendation"
where period_start is null


