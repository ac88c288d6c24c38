
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

with all_values as (

    select
        assigned_group as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."staging"."stg_shop__care_touches"
    group by assigned_group

)

select *
from all_values
where value_field not in (
    'treatment','holdout'
)



  
  
      
    ) dbt_internal_test