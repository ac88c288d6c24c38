
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

with all_values as (

    select
        ticket_category as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."staging"."stg_tickets__tickets"
    group by ticket_category

)

select *
from all_values
where value_field not in (
    'product_quality','delivery','service_attitude','billing','other'
)



  
  
      
    ) dbt_internal_test