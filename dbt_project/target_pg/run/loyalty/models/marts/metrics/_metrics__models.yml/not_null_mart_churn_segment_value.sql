
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select segment_value
from "loyalty_wh_dev"."marts"."mart_churn"
where segment_value is null



  
  
      
    ) dbt_internal_test