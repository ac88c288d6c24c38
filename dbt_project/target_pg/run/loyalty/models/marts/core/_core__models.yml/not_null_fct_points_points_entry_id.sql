
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select points_entry_id
from "loyalty_wh_dev"."core"."fct_points"
where points_entry_id is null



  
  
      
    ) dbt_internal_test