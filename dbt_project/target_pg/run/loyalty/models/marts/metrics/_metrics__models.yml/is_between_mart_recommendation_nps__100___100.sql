
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select nps
    from "loyalty_wh_dev"."marts"."mart_recommendation"
    where nps < -100 or nps > 100

  
  
      
    ) dbt_internal_test