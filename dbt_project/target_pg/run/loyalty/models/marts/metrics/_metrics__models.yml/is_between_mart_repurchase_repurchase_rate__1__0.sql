
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select repurchase_rate
    from "loyalty_wh_dev"."marts"."mart_repurchase"
    where repurchase_rate < 0 or repurchase_rate > 1

  
  
      
    ) dbt_internal_test