
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select repurchase_rate_treated
    from "loyalty_wh_dev"."marts"."mart_care_campaign_roi"
    where repurchase_rate_treated < 0 or repurchase_rate_treated > 1

  
  
      
    ) dbt_internal_test