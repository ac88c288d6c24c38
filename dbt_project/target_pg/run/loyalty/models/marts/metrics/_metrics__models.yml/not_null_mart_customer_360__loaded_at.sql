
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select _loaded_at
from "loyalty_wh_dev"."marts"."mart_customer_360"
where _loaded_at is null



  
  
      
    ) dbt_internal_test