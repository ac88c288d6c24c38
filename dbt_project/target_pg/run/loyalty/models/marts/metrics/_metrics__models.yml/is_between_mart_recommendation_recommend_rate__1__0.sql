
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select recommend_rate
    from "loyalty_wh_dev"."marts"."mart_recommendation"
    where recommend_rate < 0 or recommend_rate > 1

  
  
      
    ) dbt_internal_test