
    
    



select segment_type
from "loyalty_wh_dev"."marts"."mart_referrals"
where segment_type is null


