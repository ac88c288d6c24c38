
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

with all_values as (

    select
        repurchase_band as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."marts"."mart_repurchase"
    group by repurchase_band

)

select *
from all_values
where value_field not in (
    'high','medium','low'
)



  
  
      
    ) dbt_internal_test