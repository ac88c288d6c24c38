
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select repurchase_rate_holdout
    from "loyalty_wh_dev"."marts"."mart_care_campaign_roi"
    where repurchase_rate_holdout < 0 or repurchase_rate_holdout > 1

  
  
      
    ) dbt_internal_test