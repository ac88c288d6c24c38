
    
    

with all_values as (

    select
        referral_status as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."staging"."stg_shop__referrals"
    group by referral_status

)

select *
from all_values
where value_field not in (
    'invited','registered','converted','rejected'
)


