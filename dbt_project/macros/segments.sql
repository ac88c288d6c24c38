{#- The accepted values of each segment vocabulary (the source contracts; landing quarantines
    anything else, and the staging tests check it again). -#}
{% macro segment_vocabulary(name) -%}
    {%- set vocabularies = {
        'order_channel': ['store', 'online', 'wechat'],
        'survey_channel': ['sms', 'wechat', 'email', 'app'],
        'ticket_channel': ['phone', 'wechat', 'email', 'store'],
        'referral_channel': ['wechat', 'link', 'code'],
        'ticket_category': ['product_quality', 'delivery', 'service_attitude', 'billing', 'other'],
        'member_tier': ['bronze', 'silver', 'gold', 'platinum', 'non_member'],
    } -%}
    {{- return(vocabularies[name]) -}}
{%- endmacro %}

{#- The (period, segment) grid a metric mart reports on, so a quiet period still has a row
    (zero counts, NULL rates): every period (periods_flagged: those recomputed tonight) times
    'all' and every value of the vocabularies given ({segment_type: vocabulary name}), plus
    every city seen in `aggregated` for every period (city rows are recomputed every night).
    A fixed vocabulary, not "values seen", keeps an incremental night exact: the rows of a
    period no change touched never depend on what other periods saw. -#}
{% macro segment_grid(periods, aggregated, vocabularies) -%}
    select
        {{ periods }}.period_grain,
        {{ periods }}.period_start,
        segments.segment_type,
        segments.segment_value
    from {{ periods }}
    cross join (
        select cast('all' as {{ dbt.type_string() }}) as segment_type, cast('all' as {{ dbt.type_string() }}) as segment_value
        {%- for segment_type, vocabulary in vocabularies.items() %}
        {%- for value in segment_vocabulary(vocabulary) %}
        union all
        select '{{ segment_type }}', '{{ value }}'
        {%- endfor %}
        {%- endfor %}
        union
        -- every city; and any other value outside its vocabulary, should one ever get past
        -- the contracts: its rows are kept, never dropped
        select distinct segment_type, segment_value from {{ aggregated }} where segment_type <> 'all'
    ) as segments
    where {{ periods }}.is_dirty or segments.segment_type = 'city'
{%- endmacro %}

{#- Keep a segmented row when this build computes it: a dirty period, or a city row. -#}
{% macro computed_tonight(is_dirty_column, segment_type_column='segment_type') -%}
    ({{ is_dirty_column }} or {{ segment_type_column }} = 'city')
{%- endmacro %}

{# casts shared by every metric mart's last columns #}
{% macro mart_metadata() -%}
    {{ loaded_at() }} as _loaded_at,
    cast({{ batch_id() }} as {{ type_varchar() }}) as _batch_id
{%- endmacro %}
