
    
    

select
    referral_id as unique_field,
    count(*) as n_records

from "loyalty_wh_dev"."staging"."stg_shop__referrals"
where referral_id is not null
group by referral_id
having count(*) > 1


