
    select member_id, updated_at, count(*) as n_rows
    from "loyalty_wh_dev"."staging"."stg_shop__membership_versions"
    group by member_id, updated_at
    having count(*) > 1
