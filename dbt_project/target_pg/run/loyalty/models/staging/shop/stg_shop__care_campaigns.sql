
  create view "loyalty_wh_dev"."staging"."stg_shop__care_campaigns__dbt_tmp"
    
    
  as (
    with

source as (

    select *
    from (
        select
            versions.*,
            row_number() over (partition by campaign_id order by updated_at desc, _batch_id desc, _extracted_at desc) as _version_rank
        from "loyalty_wh_dev"."raw"."care_campaigns" as versions
        where versions._batch_id <= '2026-11-21'
    ) as ranked
    where _version_rank = 1

),

renamed as (

    select
        campaign_id,
        campaign_name,
        campaign_type,
        channel as campaign_channel,
        fixed_cost as fixed_cost_amount,
        start_date,
        end_date,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed
  );