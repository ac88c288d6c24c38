
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select period_grain, period_start, count(*) as n_rows
    from "loyalty_wh_dev"."intermediate"."int_periods"
    group by period_grain, period_start
    having count(*) > 1

  
  
      
    ) dbt_internal_test