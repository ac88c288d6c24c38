
    
    

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


