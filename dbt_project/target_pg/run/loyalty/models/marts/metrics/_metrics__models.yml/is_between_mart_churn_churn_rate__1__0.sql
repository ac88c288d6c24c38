
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select churn_rate
    from "loyalty_wh_dev"."marts"."mart_churn"
    where churn_rate < 0 or churn_rate > 1

  
  
      
    ) dbt_internal_test