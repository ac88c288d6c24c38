
    
    

with all_values as (

    select
        member_tier as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."core"."dim_members"
    group by member_tier

)

select *
from all_values
where value_field not in (
    'bronze','silver','gold','platinum'
)


