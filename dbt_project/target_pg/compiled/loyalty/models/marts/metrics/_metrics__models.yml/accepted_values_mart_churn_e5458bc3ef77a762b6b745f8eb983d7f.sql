
    
    

with all_values as (

    select
        segment_type as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."marts"."mart_churn"
    group by segment_type

)

select *
from all_values
where value_field not in (
    'all','channel','city','member_tier'
)


