
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select repurchase_intent_high_rate
    from "loyalty_wh_dev"."marts"."mart_recommendation"
    where repurchase_intent_high_rate < 0 or repurchase_intent_high_rate > 1

  
  
      
    ) dbt_internal_test