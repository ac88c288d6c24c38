
      
  
    

  create  table "loyalty_wh_dev"."core"."fct_points"
  
  
    as
  
  (
    
-- One row per points ledger entry (+ earned, - spent).
with

points as (

    select * from "loyalty_wh_dev"."staging"."stg_shop__points_ledger"
    

),

final as (

    select
        points_entry_id,
        member_id,
        order_id,
        points_reason,
        points,
        occurred_date,
        occurred_at,
        updated_at,
        _batch_id as source_batch_id
    from points

)

select * from final
  );
  
  