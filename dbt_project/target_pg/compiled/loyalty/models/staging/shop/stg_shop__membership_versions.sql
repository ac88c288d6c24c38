-- Every distinct landed version of a membership (member_id, updated_at): each one is an
-- observation of the member's tier at updated_at. Feeds the SCD2 tier history.
with

source as (

    select *
    from (
        select
            versions.*,
            row_number() over (partition by member_id, updated_at order by _batch_id desc, _extracted_at desc) as _version_rank
        from "loyalty_wh_dev"."raw"."memberships" as versions
        where versions._batch_id <= '2026-11-21'
    ) as ranked
    where _version_rank = 1

),

renamed as (

    select
        member_id,
        customer_id,
        tier as member_tier,
        status as member_status,
        joined_at,
        cancelled_at,
        updated_at,
        _batch_id,
        _extracted_at

    from source

)

select * from renamed