
    
    



select period_grain
from "loyalty_wh_dev"."marts"."mart_churn"
where period_grain is null


