-- Every distinct landed version of a membership (member_id, updated_at): each one is an
-- observation of the member's tier at updated_at. Feeds the SCD2 tier history.
with

source as (

    {{ latest_version(source('shop', 'memberships'), 'member_id, updated_at', '_batch_id desc, _extracted_at desc') }}

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
