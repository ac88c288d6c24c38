
    
    



select member_id
from "loyalty_wh_dev"."core"."dim_members"
where member_id is null


