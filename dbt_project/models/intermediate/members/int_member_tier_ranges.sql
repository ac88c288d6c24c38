{{ config(materialized='table') }}
-- One row per member tier spell that covers at least one day: the customer is a member with
-- this tier on every business date d in [member_from_date, member_to_date] (NULL = open),
-- where "on d" means at t_d = the local midnight starting d (period starts and ends are such
-- midnights). join_member_tier_at's conditions (valid_from <= t < valid_to, joined_at < t,
-- cancelled_at NULL or >= t) turned into a date range, for event sweeps.
with

members as (select * from {{ ref('dim_members') }}),

members_local as (

    select
        member_id,
        customer_id,
        member_tier,
        {{ to_business_time('valid_from') }} as valid_from_local,
        {{ to_business_time('valid_to') }} as valid_to_local,
        {{ to_business_time('joined_at') }} as joined_local,
        {{ to_business_time('cancelled_at') }} as cancelled_local,
        joined_date
    from members

),

member_bounds as (

    select
        member_id,
        customer_id,
        member_tier,
        joined_date,
        -- t_d >= valid_from
        case
            when valid_from_local = cast(cast(valid_from_local as date) as timestamp)
                then cast(valid_from_local as date)
            else cast({{ dbt.dateadd('day', 1, 'cast(valid_from_local as date)') }} as date)
        end as first_by_spell,
        -- t_d > joined_at
        cast({{ dbt.dateadd('day', 1, 'cast(joined_local as date)') }} as date) as first_by_join,
        -- t_d < valid_to (NULL = open)
        case
            when valid_to_local is null then null
            when valid_to_local = cast(cast(valid_to_local as date) as timestamp)
                then cast({{ dbt.dateadd('day', -1, 'cast(valid_to_local as date)') }} as date)
            else cast(valid_to_local as date)
        end as last_by_spell,
        -- t_d <= cancelled_at (NULL = open)
        cast(cancelled_local as date) as last_by_cancel
    from members_local

),

member_days as (

    select
        member_id,
        customer_id,
        member_tier,
        joined_date,
        case
            when first_by_spell is null or first_by_join is null then null
            when first_by_spell > first_by_join then first_by_spell
            else first_by_join
        end as member_from_date,
        case
            when last_by_spell is null then last_by_cancel
            when last_by_cancel is null then last_by_spell
            when last_by_spell < last_by_cancel then last_by_spell
            else last_by_cancel
        end as member_to_date
    from member_bounds

)

select * from member_days
where member_from_date is not null
    and (member_to_date is null or member_from_date <= member_to_date)
