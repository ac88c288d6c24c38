
  
    

  create  table "loyalty_wh_dev"."marts"."mart_churn__dbt_tmp"
  
  
    
  
  (
    period_grain varchar,
    period_start date,
    segment_type varchar,
    segment_value varchar,
    active_customers_at_start bigint,
    churned bigint,
    churn_rate numeric(18, 6),
    reactivated bigint,
    members_at_start bigint,
    members_cancelled bigint,
    member_churn_rate numeric(18, 6),
    _loaded_at timestamp,
    _batch_id varchar
    
    )
 ;
    insert into "loyalty_wh_dev"."marts"."mart_churn__dbt_tmp" (
      period_grain, period_start, segment_type, segment_value, active_customers_at_start, churned, churn_rate, reactivated, members_at_start, members_cancelled, member_churn_rate, _loaded_at, _batch_id
    )
  
  (
    
    select period_grain, period_start, segment_type, segment_value, active_customers_at_start, churned, churn_rate, reactivated, members_at_start, members_cancelled, member_churn_rate, _loaded_at, _batch_id
    from (
        -- One row per period_grain, period_start, segment_type and segment_value.
-- Customer churn by order channel, customer city and member tier as of s; member churn
-- (members_*) by city and tier as of s, NULL in channel rows (orders have channels,
-- memberships do not).
with

periods as (select * from "loyalty_wh_dev"."intermediate"."int_periods"),

customer_periods as (select * from "loyalty_wh_dev"."intermediate"."int_customer_periods"),

member_measures as (

    select * from "loyalty_wh_dev"."intermediate"."int_member_period_measures"
    where measure in ('member_at_start', 'cancelled')

),

customers_segmented as (

    select
        customer_periods.*,
        segment_types.segment_type,
        case segment_types.segment_type
            when 'all' then 'all'
            when 'channel' then customer_periods.channel_key
            when 'city' then customer_periods.city
            when 'member_tier' then customer_periods.member_tier_at_start
        end as segment_value
    from customer_periods
    cross join (values ('all'), ('channel'), ('city'), ('member_tier')) as segment_types (segment_type)
    where (segment_types.segment_type = 'channel') = (customer_periods.channel_key <> '*')

),

customer_aggregated as (

    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        sum(case when is_active_at_start then 1 else 0 end) as active_customers_at_start,
        sum(case when is_churned then 1 else 0 end) as churned,
        sum(case when is_reactivated then 1 else 0 end) as reactivated
    from customers_segmented
    group by period_grain, period_start, segment_type, segment_value

),

members_segmented as (

    select
        member_measures.*,
        segment_types.segment_type,
        case segment_types.segment_type
            when 'all' then 'all'
            when 'city' then member_measures.city
            when 'member_tier' then member_measures.member_tier
        end as segment_value
    from member_measures
    cross join (values ('all'), ('city'), ('member_tier')) as segment_types (segment_type)

),

member_aggregated as (

    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        sum(case when measure = 'member_at_start' then measure_value else 0 end) as members_at_start,
        sum(case when measure = 'cancelled' then measure_value else 0 end) as members_cancelled
    from members_segmented
    group by period_grain, period_start, segment_type, segment_value

),

segments_seen as (

    select segment_type, segment_value from customer_aggregated
    union
    select segment_type, segment_value from member_aggregated

),

grid as (select
        periods.period_grain,
        periods.period_start,
        segments.segment_type,
        segments.segment_value
    from periods
    cross join (
        select distinct segment_type, segment_value from segments_seen
        union
        select cast('all' as TEXT) as segment_type, cast('all' as TEXT) as segment_value
    ) as segments),

filled as (

    select
        grid.period_grain,
        grid.period_start,
        grid.segment_type,
        grid.segment_value,
        coalesce(c.active_customers_at_start, 0) as active_customers_at_start,
        coalesce(c.churned, 0) as churned,
        coalesce(c.reactivated, 0) as reactivated,
        case when grid.segment_type = 'channel' then null else coalesce(m.members_at_start, 0) end as members_at_start,
        case when grid.segment_type = 'channel' then null else coalesce(m.members_cancelled, 0) end as members_cancelled
    from grid
    left join customer_aggregated as c
        on grid.period_grain = c.period_grain
        and grid.period_start = c.period_start
        and grid.segment_type = c.segment_type
        and grid.segment_value = c.segment_value
    left join member_aggregated as m
        on grid.period_grain = m.period_grain
        and grid.period_start = m.period_start
        and grid.segment_type = m.segment_type
        and grid.segment_value = m.segment_value

),

final as (

    select
        cast(period_grain as varchar) as period_grain,
        cast(period_start as date) as period_start,
        cast(segment_type as varchar) as segment_type,
        cast(segment_value as varchar) as segment_value,
        cast(active_customers_at_start as bigint) as active_customers_at_start,
        cast(churned as bigint) as churned,
        cast((cast(churned as float) / nullif(cast(active_customers_at_start as float), 0)) as numeric(18, 6)) as churn_rate,
        cast(reactivated as bigint) as reactivated,
        cast(members_at_start as bigint) as members_at_start,
        cast(members_cancelled as bigint) as members_cancelled,
        cast((cast(members_cancelled as float) / nullif(cast(members_at_start as float), 0)) as numeric(18, 6)) as member_churn_rate,
        cast('2026-11-21 16:00:00' as timestamp) as _loaded_at,
    cast('2026-11-21' as TEXT) as _batch_id
    from filled

)

select * from final
    ) as model_subq
  );
  