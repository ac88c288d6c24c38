
    select period_grain, period_start, segment_type, segment_value, count(*) as n_rows
    from "loyalty_wh_dev"."marts"."mart_membership"
    group by period_grain, period_start, segment_type, segment_value
    having count(*) > 1
