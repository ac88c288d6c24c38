
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select conversion_rate
    from "loyalty_wh_dev"."marts"."mart_referrals"
    where conversion_rate < 0 or conversion_rate > 1

  
  
      
    ) dbt_internal_test