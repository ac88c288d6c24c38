
    
    

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


