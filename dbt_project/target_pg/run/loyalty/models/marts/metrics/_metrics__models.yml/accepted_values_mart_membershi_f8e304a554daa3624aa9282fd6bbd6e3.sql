
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

with all_values as (

    select
        segment_type as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."marts"."mart_membership"
    group by segment_type

)

select *
from all_values
where value_field not in (
    'all','city','member_tier'
)



  
  
      
    ) dbt_internal_test