
  
    

  create  table "loyalty_wh_dev"."marts"."mart_repurchase__dbt_tmp"
  
  
    
  
  (
    period_grain varchar,
    period_start date,
    segment_type varchar,
    segment_value varchar,
    active_customers_at_start bigint,
    repurchasers bigint,
    repurchase_rate numeric(18, 6),
    repurchase_band varchar,
    orders bigint,
    revenue numeric(18, 2),
    buyers bigint,
    avg_order_value numeric(18, 4),
    new_buyers bigint,
    _loaded_at timestamp,
    _batch_id varchar
    
    )
 ;
    insert into "loyalty_wh_dev"."marts"."mart_repurchase__dbt_tmp" (
      period_grain, period_start, segment_type, segment_value, active_customers_at_start, repurchasers, repurchase_rate, repurchase_band, orders, revenue, buyers, avg_order_value, new_buyers, _loaded_at, _batch_id
    )
  
  (
    
    select period_grain, period_start, segment_type, segment_value, active_customers_at_start, repurchasers, repurchase_rate, repurchase_band, orders, revenue, buyers, avg_order_value, new_buyers, _loaded_at, _batch_id
    from (
        -- One row per period_grain, period_start, segment_type and segment_value.
-- Segments: channel of the order, city of the customer, member tier as of the period start.
with

periods as (select * from "loyalty_wh_dev"."intermediate"."int_periods"),

customer_periods as (select * from "loyalty_wh_dev"."intermediate"."int_customer_periods"),

segmented as (

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

aggregated as (

    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        sum(case when is_active_at_start then 1 else 0 end) as active_customers_at_start,
        sum(case when is_repurchaser then 1 else 0 end) as repurchasers,
        sum(valid_orders) as orders,
        sum(revenue_amount) as revenue,
        sum(case when has_valid_order then 1 else 0 end) as buyers,
        sum(case when is_new_buyer then 1 else 0 end) as new_buyers
    from segmented
    group by period_grain, period_start, segment_type, segment_value

),

grid as (select
        periods.period_grain,
        periods.period_start,
        segments.segment_type,
        segments.segment_value
    from periods
    cross join (
        select distinct segment_type, segment_value from aggregated
        union
        select cast('all' as TEXT) as segment_type, cast('all' as TEXT) as segment_value
    ) as segments),

filled as (

    select
        grid.period_grain,
        grid.period_start,
        grid.segment_type,
        grid.segment_value,
        coalesce(aggregated.active_customers_at_start, 0) as active_customers_at_start,
        coalesce(aggregated.repurchasers, 0) as repurchasers,
        coalesce(aggregated.orders, 0) as orders,
        coalesce(aggregated.revenue, 0) as revenue,
        coalesce(aggregated.buyers, 0) as buyers,
        coalesce(aggregated.new_buyers, 0) as new_buyers
    from grid
    left join aggregated
        on grid.period_grain = aggregated.period_grain
        and grid.period_start = aggregated.period_start
        and grid.segment_type = aggregated.segment_type
        and grid.segment_value = aggregated.segment_value

),

metrics as (

    select
        *,
        (cast(repurchasers as float) / nullif(cast(active_customers_at_start as float), 0)) as repurchase_rate,
        (cast(revenue as float) / nullif(cast(orders as float), 0)) as avg_order_value
    from filled

),

final as (

    select
        cast(period_grain as varchar) as period_grain,
        cast(period_start as date) as period_start,
        cast(segment_type as varchar) as segment_type,
        cast(segment_value as varchar) as segment_value,
        cast(active_customers_at_start as bigint) as active_customers_at_start,
        cast(repurchasers as bigint) as repurchasers,
        cast(repurchase_rate as numeric(18, 6)) as repurchase_rate,
        cast(case
            when repurchase_rate is null then null
            when repurchase_rate > 0.70 then 'high'
            when repurchase_rate >= 0.30 then 'medium'
            else 'low'
        end as varchar) as repurchase_band,
        cast(orders as bigint) as orders,
        cast(revenue as numeric(18, 2)) as revenue,
        cast(buyers as bigint) as buyers,
        cast(avg_order_value as numeric(18, 4)) as avg_order_value,
        cast(new_buyers as bigint) as new_buyers,
        cast('2026-11-21 16:00:00' as timestamp) as _loaded_at,
    cast('2026-11-21' as TEXT) as _batch_id
    from metrics

)

select * from final
    ) as model_subq
  );
  