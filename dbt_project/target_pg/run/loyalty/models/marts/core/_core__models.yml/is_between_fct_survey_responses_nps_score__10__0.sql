
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select nps_score
    from "loyalty_wh_dev"."core"."fct_survey_responses"
    where nps_score < 0 or nps_score > 10

  
  
      
    ) dbt_internal_test