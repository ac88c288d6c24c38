
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select member_tier_key
from "loyalty_wh_dev"."core"."dim_members"
where member_tier_key is null



  
  
      
    ) dbt_internal_test