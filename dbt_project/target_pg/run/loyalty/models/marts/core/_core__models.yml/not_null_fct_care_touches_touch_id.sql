
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select touch_id
from "loyalty_wh_dev"."core"."fct_care_touches"
where touch_id is null



  
  
      
    ) dbt_internal_test