
    
    



select ticket_id
from "loyalty_wh_dev"."staging"."stg_tickets__tickets"
where ticket_id is null


