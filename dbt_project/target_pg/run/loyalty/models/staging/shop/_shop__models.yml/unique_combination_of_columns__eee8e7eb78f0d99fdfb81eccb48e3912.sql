
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select member_id, updated_at, count(*) as n_rows
    from "loyalty_wh_dev"."staging"."stg_shop__membership_versions"
    group by member_id, updated_at
    having count(*) > 1

  
  
      
    ) dbt_internal_test