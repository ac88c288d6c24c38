{#- Inputs shared by the customer-activity marts (repurchase, churn, membership), restricted
    to what a build computes: rows of the periods in `periods` (periods_flagged), with their
    is_dirty flag; on an incremental night, outside the dirty periods only the rows the city
    segments need (channel_key '*'). -#}

{#- int_customer_periods with the customer's current city ('unknown' when not known yet). -#}
{% macro customer_periods_located(periods) -%}
    select
        customer_periods.*,
        coalesce(customers.city, 'unknown') as city,
        {{ periods }}.is_dirty
    from {{ ref('int_customer_periods') }} as customer_periods
    inner join {{ periods }}
        on customer_periods.period_grain = {{ periods }}.period_grain
        and customer_periods.period_start = {{ periods }}.period_start
    left join {{ ref('dim_customers') }} as customers
        on customer_periods.customer_id = customers.customer_id
    {%- if incremental_night() %}
    where {{ periods }}.is_dirty or customer_periods.channel_key = '*'
    {%- endif %}
{%- endmacro %}

{#- int_active_customer_counts with is_dirty. -#}
{% macro active_counts_flagged(periods) -%}
    select active_counts.*, {{ periods }}.is_dirty
    from {{ ref('int_active_customer_counts') }} as active_counts
    inner join {{ periods }}
        on active_counts.period_grain = {{ periods }}.period_grain
        and active_counts.period_start = {{ periods }}.period_start
    {%- if incremental_night() %}
    where {{ periods }}.is_dirty or active_counts.channel_key = '*'
    {%- endif %}
{%- endmacro %}

{#- The segment rows of the customer-activity marts (repurchase, churn): customer periods and
    active-at-s counts by order channel, city and member tier as of s (channel rows from the
    per-channel rows, the others from the any-channel rows '*'). -#}
{% macro customer_period_segments(customer_periods='customer_periods') -%}
    {{ segment_rows(customer_periods,
                    {'channel': 'channel_key', 'city': 'city', 'member_tier': 'member_tier_at_start'},
                    where="(segment_types.segment_type = 'channel') = (" ~ customer_periods ~ ".channel_key <> '*')") }}
{%- endmacro %}

{% macro active_count_segments(active_counts='active_counts') -%}
    {{ segment_rows(active_counts,
                    {'channel': 'channel_key', 'city': 'city', 'member_tier': 'member_tier'},
                    where="(segment_types.segment_type = 'channel') = (" ~ active_counts ~ ".channel_key <> '*')") }}
{%- endmacro %}
