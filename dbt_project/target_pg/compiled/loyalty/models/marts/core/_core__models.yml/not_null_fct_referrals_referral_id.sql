
    
    



select referral_id
from "loyalty_wh_dev"."core"."fct_referrals"
where referral_id is null


