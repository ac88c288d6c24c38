
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select member_churn_rate
    from "loyalty_wh_dev"."marts"."mart_churn"
    where member_churn_rate < 0 or member_churn_rate > 1

  
  
      
    ) dbt_internal_test