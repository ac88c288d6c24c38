
    
    

select
    points_entry_id as unique_field,
    count(*) as n_records

from "loyalty_wh_dev"."staging"."stg_shop__points_ledger"
where points_entry_id is not null
group by points_entry_id
having count(*) > 1


