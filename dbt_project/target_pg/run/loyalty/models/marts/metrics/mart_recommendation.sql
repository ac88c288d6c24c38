
  
    

  create  table "loyalty_wh_dev"."marts"."mart_recommendation__dbt_tmp"
  
  
    
  
  (
    period_grain varchar,
    period_start date,
    segment_type varchar,
    segment_value varchar,
    responses bigint,
    valid_nps_responses bigint,
    promoters bigint,
    passives bigint,
    detractors bigint,
    nps numeric(18, 6),
    nps_ci_low numeric(18, 6),
    nps_ci_high numeric(18, 6),
    recommend_rate numeric(18, 6),
    is_small_sample boolean,
    satisfaction_responses bigint,
    satisfied bigint,
    satisfaction_rate numeric(18, 6),
    repurchase_intent_responses bigint,
    repurchase_intent_high bigint,
    repurchase_intent_high_rate numeric(18, 6),
    est_positive_mentions bigint,
    est_negative_mentions bigint,
    _loaded_at timestamp,
    _batch_id varchar
    
    )
 ;
    insert into "loyalty_wh_dev"."marts"."mart_recommendation__dbt_tmp" (
      period_grain, period_start, segment_type, segment_value, responses, valid_nps_responses, promoters, passives, detractors, nps, nps_ci_low, nps_ci_high, recommend_rate, is_small_sample, satisfaction_responses, satisfied, satisfaction_rate, repurchase_intent_responses, repurchase_intent_high, repurchase_intent_high_rate, est_positive_mentions, est_negative_mentions, _loaded_at, _batch_id
    )
  
  (
    
    select period_grain, period_start, segment_type, segment_value, responses, valid_nps_responses, promoters, passives, detractors, nps, nps_ci_low, nps_ci_high, recommend_rate, is_small_sample, satisfaction_responses, satisfied, satisfaction_rate, repurchase_intent_responses, repurchase_intent_high, repurchase_intent_high_rate, est_positive_mentions, est_negative_mentions, _loaded_at, _batch_id
    from (
        -- One row per period_grain, period_start, segment_type and segment_value.
-- Survey responses submitted in the period (newest delivery of each response_id).
-- Segments: survey channel; city and member tier (as of submitted_at) of the responding
-- customer. Anonymous responses count only in 'all'.
with

periods as (select * from "loyalty_wh_dev"."intermediate"."int_periods"),

responses as (

    select * from "loyalty_wh_dev"."core"."fct_survey_responses"
    where submitted_date <= cast('2026-11-21' as date)

),

customers as (select * from "loyalty_wh_dev"."core"."dim_customers"),

responses_enriched as (

    select
        responses.*,
        coalesce(customers.city, 'unknown') as city,
        coalesce(tier_at.member_tier, 'non_member') as member_tier
    from responses
    left join customers
        on responses.customer_id = customers.customer_id
    left join "loyalty_wh_dev"."core"."dim_members" as tier_at
        on tier_at.customer_id = responses.customer_id
        and tier_at.valid_from <= responses.submitted_at
        and (tier_at.valid_to is null or tier_at.valid_to > responses.submitted_at)
        and tier_at.joined_at < responses.submitted_at
        and (tier_at.cancelled_at is null or tier_at.cancelled_at >= responses.submitted_at)

),

responses_in_periods as (

    select periods.period_grain, periods.period_start, responses_enriched.*
    from responses_enriched
    inner join periods
        on responses_enriched.submitted_date >= periods.period_start
        and responses_enriched.submitted_date < periods.period_end

),

segmented as (

    select
        responses_in_periods.*,
        segment_types.segment_type,
        case segment_types.segment_type
            when 'all' then 'all'
            when 'channel' then responses_in_periods.survey_channel
            when 'city' then responses_in_periods.city
            when 'member_tier' then responses_in_periods.member_tier
        end as segment_value
    from responses_in_periods
    cross join (values ('all'), ('channel'), ('city'), ('member_tier')) as segment_types (segment_type)
    where segment_types.segment_type = 'all'
        or not responses_in_periods.is_anonymous

),

aggregated as (

    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        count(*) as responses,
        sum(case when nps_score between 0 and 10 then 1 else 0 end) as valid_nps_responses,
        sum(case when nps_score between 9 and 10 then 1 else 0 end) as promoters,
        sum(case when nps_score between 7 and 8 then 1 else 0 end) as passives,
        sum(case when nps_score between 0 and 6 then 1 else 0 end) as detractors,
        sum(case when satisfaction_score is not null then 1 else 0 end) as satisfaction_responses,
        sum(case when satisfaction_score >= 3 then 1 else 0 end) as satisfied,
        sum(case when repurchase_intent is not null then 1 else 0 end) as repurchase_intent_responses,
        sum(case when repurchase_intent = 'high' then 1 else 0 end) as repurchase_intent_high
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
        coalesce(a.responses, 0) as responses,
        coalesce(a.valid_nps_responses, 0) as valid_nps_responses,
        coalesce(a.promoters, 0) as promoters,
        coalesce(a.passives, 0) as passives,
        coalesce(a.detractors, 0) as detractors,
        coalesce(a.satisfaction_responses, 0) as satisfaction_responses,
        coalesce(a.satisfied, 0) as satisfied,
        coalesce(a.repurchase_intent_responses, 0) as repurchase_intent_responses,
        coalesce(a.repurchase_intent_high, 0) as repurchase_intent_high
    from grid
    left join aggregated as a
        on grid.period_grain = a.period_grain
        and grid.period_start = a.period_start
        and grid.segment_type = a.segment_type
        and grid.segment_value = a.segment_value

),

shares as (

    select
        *,
        (cast(promoters as float) / nullif(cast(valid_nps_responses as float), 0)) as promoter_share,
        (cast(detractors as float) / nullif(cast(valid_nps_responses as float), 0)) as detractor_share
    from filled

),

nps as (

    select
        *,
        promoter_share - detractor_share as nps_fraction,
        -- 95% interval of NPS: d +- 1.96 * sqrt((p + q - d^2) / n)
        1.96 * sqrt(
            case when valid_nps_responses > 0 then
                (promoter_share + detractor_share
                 - (promoter_share - detractor_share) * (promoter_share - detractor_share))
                / valid_nps_responses
            end
        ) as nps_margin
    from shares

),

final as (

    select
        cast(period_grain as varchar) as period_grain,
        cast(period_start as date) as period_start,
        cast(segment_type as varchar) as segment_type,
        cast(segment_value as varchar) as segment_value,
        cast(responses as bigint) as responses,
        cast(valid_nps_responses as bigint) as valid_nps_responses,
        cast(promoters as bigint) as promoters,
        cast(passives as bigint) as passives,
        cast(detractors as bigint) as detractors,
        cast(100 * nps_fraction as numeric(18, 6)) as nps,
        cast(100 * (nps_fraction - nps_margin) as numeric(18, 6)) as nps_ci_low,
        cast(100 * (nps_fraction + nps_margin) as numeric(18, 6)) as nps_ci_high,
        cast(promoter_share as numeric(18, 6)) as recommend_rate,
        cast(valid_nps_responses < 30 as boolean) as is_small_sample,
        cast(satisfaction_responses as bigint) as satisfaction_responses,
        cast(satisfied as bigint) as satisfied,
        cast((cast(satisfied as float) / nullif(cast(satisfaction_responses as float), 0)) as numeric(18, 6)) as satisfaction_rate,
        cast(repurchase_intent_responses as bigint) as repurchase_intent_responses,
        cast(repurchase_intent_high as bigint) as repurchase_intent_high,
        cast((cast(repurchase_intent_high as float) / nullif(cast(repurchase_intent_responses as float), 0)) as numeric(18, 6)) as repurchase_intent_high_rate,
        cast(satisfied * 5 as bigint) as est_positive_mentions,
        cast((satisfaction_responses - satisfied) * 10 as bigint) as est_negative_mentions,
        cast('2026-11-21 16:00:00' as timestamp) as _loaded_at,
    cast('2026-11-21' as TEXT) as _batch_id
    from nps

)

select * from final
    ) as model_subq
  );
  