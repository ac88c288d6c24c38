
    
    



select points_entry_id
from "loyalty_wh_dev"."staging"."stg_shop__points_ledger"
where points_entry_id is null


