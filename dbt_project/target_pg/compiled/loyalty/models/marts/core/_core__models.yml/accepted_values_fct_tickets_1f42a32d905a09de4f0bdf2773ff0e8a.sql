
    
    

with all_values as (

    select
        ticket_status as value_field,
        count(*) as n_records

    from "loyalty_wh_dev"."core"."fct_tickets"
    group by ticket_status

)

select *
from all_values
where value_field not in (
    'open','pending','solved','closed'
)


