
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select period_grain, period_start, segment_type, segment_value, count(*) as n_rows
    from "loyalty_wh_dev"."marts"."mart_referrals"
    group by period_grain, period_start, segment_type, segment_value
    having count(*) > 1

  
  
      
    ) dbt_internal_test