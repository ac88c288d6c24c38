
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select _batch_id
from "loyalty_wh_dev"."marts"."mart_churn"
where _batch_id is null



  
  
      
    ) dbt_internal_test