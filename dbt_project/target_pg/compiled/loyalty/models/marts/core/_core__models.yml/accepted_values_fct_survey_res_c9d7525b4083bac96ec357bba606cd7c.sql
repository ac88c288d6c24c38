
    
    

with all_values as (

    select
        nps_category as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."core"."fct_survey_responses"
    group by nps_category

)

select *
from all_values
where value_field not in (
    'promoter','passive','detractor'
)


