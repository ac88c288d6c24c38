
    
    



select segment_value
from "loyalty_wh_dev"."marts"."mart_repurchase"
where segment_value is null


