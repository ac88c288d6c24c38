
    select reopen_rate
    from "loyalty_wh_dev"."marts"."mart_complaints"
    where reopen_rate < 0 or reopen_rate > 1
