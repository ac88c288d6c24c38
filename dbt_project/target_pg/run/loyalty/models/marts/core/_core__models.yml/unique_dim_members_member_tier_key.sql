
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

select
    member_tier_key as unique_field,
    count(*) as n_records

from "loyalty_wh_dev"."core"."dim_members"
where member_tier_key is not null
group by member_tier_key
having count(*) > 1



  
  
      
    ) dbt_internal_test