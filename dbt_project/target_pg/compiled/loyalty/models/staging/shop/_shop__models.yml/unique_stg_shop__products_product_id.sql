
    
    

select
    product_id as unique_field,
    count(*) as n_records

from "loyalty_wh_dev"."staging"."stg_shop__products"
where product_id is not null
group by product_id
having count(*) > 1


