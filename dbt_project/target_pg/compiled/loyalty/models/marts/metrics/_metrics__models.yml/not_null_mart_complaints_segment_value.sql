
    
    



select segment_value
from "loyalty_wh_dev"."marts"."mart_complaints"
where segment_value is null


