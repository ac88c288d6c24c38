
    
    

with all_values as (

    select
        channel as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."staging"."stg_shop__orders"
    group by channel

)

select *
from all_values
where value_field not in (
    'store','online','wechat'
)


