
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

with all_values as (

    select
        points_reason as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."staging"."stg_shop__points_ledger"
    group by points_reason

)

select *
from all_values
where value_field not in (
    'purchase','redeem','referral_reward','care_gift','expire','adjust'
)



  
  
      
    ) dbt_internal_test