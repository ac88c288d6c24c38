
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select monetary_score
    from "loyalty_wh_dev"."marts"."mart_customer_360"
    where monetary_score < 1 or monetary_score > 5

  
  
      
    ) dbt_internal_test