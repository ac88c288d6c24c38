
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select campaign_id, customer_id, count(*) as n_rows
    from "loyalty_wh_dev"."intermediate"."int_campaign_customers"
    group by campaign_id, customer_id
    having count(*) > 1

  
  
      
    ) dbt_internal_test