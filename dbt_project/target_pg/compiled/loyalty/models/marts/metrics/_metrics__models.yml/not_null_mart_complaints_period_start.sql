
    
    



select period_start
from "loyalty_wh_dev"."marts"."mart_complaints"
where period_start is null


