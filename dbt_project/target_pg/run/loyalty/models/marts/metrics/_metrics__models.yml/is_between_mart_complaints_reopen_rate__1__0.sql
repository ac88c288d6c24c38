
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select reopen_rate
    from "loyalty_wh_dev"."marts"."mart_complaints"
    where reopen_rate < 0 or reopen_rate > 1

  
  
      
    ) dbt_internal_test