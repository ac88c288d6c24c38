
    
    

with all_values as (

    select
        order_status as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."staging"."stg_shop__orders"
    group by order_status

)

select *
from all_values
where value_field not in (
    'paid','shipped','completed','cancelled','refunded'
)


