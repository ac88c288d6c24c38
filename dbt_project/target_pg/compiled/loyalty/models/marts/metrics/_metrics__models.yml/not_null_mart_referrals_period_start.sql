
    
    



select period_start
from "loyalty_wh_dev"."marts"."mart_referrals"
where period_start is null


