
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select period_start
from "loyalty_wh_dev"."marts"."mart_recommendation"
where period_start is null



  
  
      
    ) dbt_internal_test