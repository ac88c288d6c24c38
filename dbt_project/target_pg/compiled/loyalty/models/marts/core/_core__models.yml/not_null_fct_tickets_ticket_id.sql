
    
    



select ticket_id
from "loyalty_wh_dev"."core"."fct_tickets"
where ticket_id is null


