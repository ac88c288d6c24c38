
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select response_id
from "loyalty_wh_dev"."staging"."stg_surveys__survey_responses"
where response_id is null



  
  
      
    ) dbt_internal_test