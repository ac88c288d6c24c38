
    
    



select segment_type
from "loyalty_wh_dev"."marts"."mart_churn"
where segment_type is null


