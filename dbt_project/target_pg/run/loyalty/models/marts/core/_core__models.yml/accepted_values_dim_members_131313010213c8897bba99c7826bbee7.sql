
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

with all_values as (

    select
        tier_change as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."core"."dim_members"
    group by tier_change

)

select *
from all_values
where value_field not in (
    'initial','upgrade','downgrade'
)



  
  
      
    ) dbt_internal_test