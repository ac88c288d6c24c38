
    
    

select
    member_id as unique_field,
    count(*) as n_records

from "loyalty_wh_dev"."staging"."stg_shop__memberships"
where member_id is not null
group by member_id
having count(*) > 1


