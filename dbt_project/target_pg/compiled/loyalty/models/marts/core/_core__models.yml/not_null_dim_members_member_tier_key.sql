
    
    



select member_tier_key
from "loyalty_wh_dev"."core"."dim_members"
where member_tier_key is null


