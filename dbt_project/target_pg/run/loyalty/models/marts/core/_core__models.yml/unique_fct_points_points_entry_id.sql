
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

select
    points_entry_id as unique_field,
    count(*) as n_records

from "loyalty_wh_dev"."core"."fct_points"
where points_entry_id is not null
group by points_entry_id
having count(*) > 1



  
  
      
    ) dbt_internal_test