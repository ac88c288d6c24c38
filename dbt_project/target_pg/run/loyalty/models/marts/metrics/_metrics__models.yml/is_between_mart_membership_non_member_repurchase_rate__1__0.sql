
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    select non_member_repurchase_rate
    from "loyalty_wh_dev"."marts"."mart_membership"
    where non_member_repurchase_rate < 0 or non_member_repurchase_rate > 1

  
  
      
    ) dbt_internal_test