
    
    

select
    campaign_id as unique_field,
    count(*) as n_records

from "loyalty_wh_dev"."staging"."stg_shop__care_campaigns"
where campaign_id is not null
group by campaign_id
having count(*) > 1


