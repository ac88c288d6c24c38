
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select customer_id
from "loyalty_wh_dev"."staging"."stg_shop__memberships"
where customer_id is null



  
  
      
    ) dbt_internal_test