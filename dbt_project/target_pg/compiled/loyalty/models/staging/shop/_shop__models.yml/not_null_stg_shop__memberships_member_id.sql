
    
    



select member_id
from "loyalty_wh_dev"."staging"."stg_shop__memberships"
where member_id is null


