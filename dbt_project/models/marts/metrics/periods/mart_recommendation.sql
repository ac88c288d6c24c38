{{ config(dirty_sources=['survey_responses', 'memberships']) }}
-- One row per period_grain, period_start, segment_type and segment_value.
-- Survey responses submitted in the period (newest delivery of each response_id).
-- Segments: survey channel; city and member tier (as of submitted_at) of the responding
-- customer. Anonymous responses count only in 'all'.
with

all_periods as (select * from {{ ref('int_periods') }}),

dirty_periods as (select * from {{ ref('int_dirty_periods') }}),

responses as (

    select * from {{ ref('fct_survey_responses') }}
    where submitted_date <= {{ business_date() }}

),

customers as (select * from {{ ref('dim_customers') }}),

members as (select * from {{ ref('dim_members') }}),

-- every period, is_dirty when this build recomputes it (its answers or memberships changed)
periods as ({{ periods_flagged('all_periods', 'dirty_periods') }}),

-- each answer with the respondent's current city and their member tier when they answered
responses_located as (

    select
        responses.*,
        coalesce(customers.city, 'unknown') as city,
        coalesce(tier_at.member_tier, 'non_member') as member_tier
    from responses
    left join customers
        on responses.customer_id = customers.customer_id
    {{ join_member_tier_at('members', 'tier_at', 'responses.customer_id', 'responses.submitted_at') }}

),

responses_in_periods as ({{ events_in_periods('responses_located', 'submitted_date', 'periods') }}),

-- anonymous responses count only in 'all'
segmented as (

    {{ segment_rows('responses_in_periods',
                    {'channel': 'survey_channel', 'city': 'city', 'member_tier': 'member_tier'},
                    where="segment_types.segment_type = 'all' or not responses_in_periods.is_anonymous") }}

),

aggregated as (

    {{ sum_by_segment('segmented', {
        'responses': 'count(*)',
        'valid_nps_responses': 'sum(case when nps_score between 0 and 10 then 1 else 0 end)',
        'promoters': 'sum(case when nps_score between 9 and 10 then 1 else 0 end)',
        'passives': 'sum(case when nps_score between 7 and 8 then 1 else 0 end)',
        'detractors': 'sum(case when nps_score between 0 and 6 then 1 else 0 end)',
        'satisfaction_responses': 'sum(case when satisfaction_score is not null then 1 else 0 end)',
        'satisfied': 'sum(case when satisfaction_score >= 3 then 1 else 0 end)',
        'repurchase_intent_responses': 'sum(case when repurchase_intent is not null then 1 else 0 end)',
        'repurchase_intent_high': "sum(case when repurchase_intent = 'high' then 1 else 0 end)",
    }) }}

),

filled as (

    {{ filled_grid('periods', 'aggregated', 'aggregated', {'channel': 'survey_channel', 'member_tier': 'member_tier'},
                   counts=['responses', 'valid_nps_responses', 'promoters', 'passives', 'detractors',
                           'satisfaction_responses', 'satisfied', 'repurchase_intent_responses',
                           'repurchase_intent_high']) }}

),

shares as (

    select
        *,
        {{ safe_divide('promoters', 'valid_nps_responses') }} as promoter_share,
        {{ safe_divide('detractors', 'valid_nps_responses') }} as detractor_share
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
        {{ period_keys() }},
        {{ bigints(['responses', 'valid_nps_responses', 'promoters', 'passives', 'detractors']) }},
        cast(100 * nps_fraction as numeric(18, 6)) as nps,
        cast(100 * (nps_fraction - nps_margin) as numeric(18, 6)) as nps_ci_low,
        cast(100 * (nps_fraction + nps_margin) as numeric(18, 6)) as nps_ci_high,
        cast(promoter_share as numeric(18, 6)) as recommend_rate,
        cast(valid_nps_responses < {{ var('min_sample_size') }} as boolean) as is_small_sample,
        {{ bigints(['satisfaction_responses', 'satisfied']) }},
        cast({{ safe_divide('satisfied', 'satisfaction_responses') }} as numeric(18, 6)) as satisfaction_rate,
        {{ bigints(['repurchase_intent_responses', 'repurchase_intent_high']) }},
        cast({{ safe_divide('repurchase_intent_high', 'repurchase_intent_responses') }} as numeric(18, 6)) as repurchase_intent_high_rate,
        cast(satisfied * {{ var('wom_positive_per_customer') }} as bigint) as est_positive_mentions,
        cast((satisfaction_responses - satisfied) * {{ var('wom_negative_per_customer') }} as bigint) as est_negative_mentions,
        {{ mart_metadata() }}
    from nps

)

select * from final
