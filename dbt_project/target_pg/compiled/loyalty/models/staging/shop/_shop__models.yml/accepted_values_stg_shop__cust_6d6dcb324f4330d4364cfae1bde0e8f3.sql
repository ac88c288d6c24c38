
    
    

with all_values as (

    select
        signup_channel as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."staging"."stg_shop__customers"
    group by signup_channel

)

select *
from all_values
where value_field not in (
    'store','online','wechat'
)


