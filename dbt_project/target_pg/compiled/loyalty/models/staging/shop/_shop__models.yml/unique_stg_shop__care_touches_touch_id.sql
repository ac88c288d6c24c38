
    
    

select
    touch_id as unique_field,
    count(*) as n_records

from "loyalty_wh_dev"."staging"."stg_shop__care_touches"
where touch_id is not null
group by touch_id
having count(*) > 1


