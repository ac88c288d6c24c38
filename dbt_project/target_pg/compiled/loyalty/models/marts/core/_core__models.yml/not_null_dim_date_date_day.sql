
    
    



select date_day
from "loyalty_wh_dev"."core"."dim_date"
where date_day is null


