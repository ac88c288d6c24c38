
  
    

  create  table "loyalty_wh_dev"."core"."dim_stores__dbt_tmp"
  
  
    as
  
  (
    -- One row per store.
with

stores as (select * from "loyalty_wh_dev"."staging"."stg_shop__stores"),

final as (

    select
        store_id,
        store_name,
        city,
        opened_date,
        updated_at
    from stores

)

select * from final
  );
  