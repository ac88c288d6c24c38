
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select segment_type
from "loyalty_wh_dev"."marts"."mart_membership"
where segment_type is null



  
  
      
    ) dbt_internal_test