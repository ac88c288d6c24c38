-- SCD2: one row per member and tier spell (valid_from <= t < valid_to; valid_to NULL = current).
-- The shop keeps only the current tier; every landed version of a membership is a tier
-- observation at its updated_at. The first observed tier is taken to hold since joined_at
-- (the raw zone starts with the first full extract), later changes from the version's updated_at.
with

versions as (select * from "loyalty_wh_dev"."staging"."stg_shop__membership_versions"),

memberships as (select * from "loyalty_wh_dev"."staging"."stg_shop__memberships"),

sequenced as (

    select
        member_id,
        member_tier,
        updated_at,
        lag(member_tier) over (partition by member_id order by updated_at, _batch_id) as previous_tier,
        row_number() over (partition by member_id order by updated_at, _batch_id) as version_number
    from versions

),

tier_changes as (

    select
        sequenced.member_id,
        sequenced.member_tier,
        sequenced.previous_tier,
        case
            when sequenced.version_number = 1
                then case when memberships.joined_at < sequenced.updated_at
                          then memberships.joined_at else sequenced.updated_at end
            else sequenced.updated_at
        end as valid_from
    from sequenced
    inner join memberships
        on sequenced.member_id = memberships.member_id
    where sequenced.previous_tier is null
        or sequenced.previous_tier <> sequenced.member_tier

),

spells as (

    select
        member_id,
        member_tier,
        previous_tier,
        valid_from,
        lead(valid_from) over (partition by member_id order by valid_from) as valid_to
    from tier_changes

),

final as (

    select
        md5(cast(cast(spells.member_id as TEXT) || '|' || cast(spells.valid_from as TEXT) as TEXT)) as member_tier_key,
        spells.member_id,
        memberships.customer_id,
        spells.member_tier,
        spells.previous_tier,
        case
            when spells.previous_tier is null then 'initial'
            when case spells.member_tier when 'bronze' then 1 when 'silver' then 2 when 'gold' then 3 when 'platinum' then 4 end > case spells.previous_tier when 'bronze' then 1 when 'silver' then 2 when 'gold' then 3 when 'platinum' then 4 end then 'upgrade'
            else 'downgrade'
        end as tier_change,
        memberships.member_status,
        spells.valid_to is null as is_current,
        memberships.joined_date,
        memberships.cancelled_date,
        memberships.joined_at,
        memberships.cancelled_at,
        spells.valid_from,
        spells.valid_to
    from spells
    inner join memberships
        on spells.member_id = memberships.member_id

)

select * from final