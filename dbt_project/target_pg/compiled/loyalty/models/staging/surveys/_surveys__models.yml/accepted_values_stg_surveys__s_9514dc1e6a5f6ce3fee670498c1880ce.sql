
    
    

with all_values as (

    select
        survey_channel as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."staging"."stg_surveys__survey_responses"
    group by survey_channel

)

select *
from all_values
where value_field not in (
    'sms','wechat','email','app'
)


