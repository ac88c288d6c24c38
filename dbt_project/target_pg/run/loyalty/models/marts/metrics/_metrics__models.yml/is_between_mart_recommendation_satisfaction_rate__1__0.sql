
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select satisfaction_rate
    from "loyalty_wh_dev"."marts"."mart_recommendation"
    where satisfaction_rate < 0 or satisfaction_rate > 1

  
  
      
    ) dbt_internal_test