
    
    

select
    points_entry_id as unique_field,
    count(*) as n_records

from "loyalty_wh_dev"."core"."fct_points"
where points_entry_id is not null
group by points_entry_id
having count(*) > 1


