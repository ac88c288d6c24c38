
    select period_grain, period_start, count(*) as n_rows
    from "loyalty_wh_dev"."intermediate"."int_periods"
    group by period_grain, period_start
    having count(*) > 1
