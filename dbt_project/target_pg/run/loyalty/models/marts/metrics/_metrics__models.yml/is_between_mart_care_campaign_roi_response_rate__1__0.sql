
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select response_rate
    from "loyalty_wh_dev"."marts"."mart_care_campaign_roi"
    where response_rate < 0 or response_rate > 1

  
  
      
    ) dbt_internal_test