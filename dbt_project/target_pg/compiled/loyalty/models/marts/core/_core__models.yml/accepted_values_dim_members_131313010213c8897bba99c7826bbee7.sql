
    
    

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


