
    
    



select points_entry_id
from "loyalty_wh_dev"."core"."fct_points"
where points_entry_id is null


