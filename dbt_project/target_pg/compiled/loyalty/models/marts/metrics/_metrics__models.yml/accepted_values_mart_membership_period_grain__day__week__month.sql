
    
    

with all_values as (

    select
        period_grain as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."marts"."mart_membership"
    group by period_grain

)

select *
from all_values
where value_field not in (
    'day','week','month'
)


