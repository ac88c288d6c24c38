
    
    



select _loaded_at
from "loyalty_wh_dev"."marts"."mart_referrals"
where _loaded_at is null


