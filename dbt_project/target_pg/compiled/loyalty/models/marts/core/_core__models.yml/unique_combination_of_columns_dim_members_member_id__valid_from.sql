
    select member_id, valid_from, count(*) as n_rows
    from "loyalty_wh_dev"."core"."dim_members"
    group by member_id, valid_from
    having count(*) > 1
