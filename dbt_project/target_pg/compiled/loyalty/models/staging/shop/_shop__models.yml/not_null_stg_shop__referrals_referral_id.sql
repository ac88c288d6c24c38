
    
    



select referral_id
from "loyalty_wh_dev"."staging"."stg_shop__referrals"
where referral_id is null


