{#- Segments of the period marts: segment_type ('all', 'channel', 'city', 'member_tier',
    'category') and segment_value. The plumbing every period mart shares: expanding fact rows
    into segment rows, summing measures per period and segment, and the grid of (period,
    segment) rows a mart reports, zero-filled. A mart names its inputs and its measures; these
    macros take the names of its CTEs. -#}

{#- A constant relation of segment types, for cross joins. -#}
{% macro segment_types(types) -%}
    (values {% for t in types %}('{{ t }}'){% if not loop.last %}, {% endif %}{% endfor %}) as segment_types (segment_type)
{%- endmacro %}

{#- The accepted values of each segment vocabulary (the source contracts, loyalty.contracts;
    landing quarantines anything else; tests/test_vocabularies.py ties the two together). -#}
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

{#- Keep a segmented row when this build computes it: a dirty period, or a city row (city rows
    are recomputed every night: the city is the customer's current one). -#}
{% macro computed_tonight(is_dirty_column, segment_type_column='segment_type') -%}
    ({{ is_dirty_column }} or {{ segment_type_column }} = 'city')
{%- endmacro %}

{#- One row per row of `relation` (which has period_grain, period_start, is_dirty) and
    segment type: 'all', then each of `segments` ({segment_type: column of `relation` holding
    the row's value}), with segment_type and segment_value. Kept only where this build
    computes them (computed_tonight; tonight_only=false keeps every period); `where` (SQL over
    `relation` and segment_types.segment_type) narrows further, e.g. anonymous answers only in
    'all'. -#}
{% macro segment_rows(relation, segments, where=none, tonight_only=true) -%}
    select
        {{ relation }}.*,
        segment_types.segment_type,
        case segment_types.segment_type
            when 'all' then 'all'
            {%- for segment_type, column in segments.items() %}
            when '{{ segment_type }}' then {{ relation }}.{{ column }}
            {%- endfor %}
        end as segment_value
    from {{ relation }}
    cross join {{ segment_types(['all'] + (segments.keys() | list)) }}
    {%- set conditions = ([where] if where else []) + ([computed_tonight(relation ~ '.is_dirty', 'segment_types.segment_type')] if tonight_only else []) %}
    {%- if conditions %}
    where {{ conditions | join('\n        and ') }}
    {%- endif %}
{%- endmacro %}

{#- The measures of `relation` (segment rows) per period and segment: {column: aggregate
    expression}, or a list of columns to sum. -#}
{% macro sum_by_segment(relation, measures) -%}
    select
        period_grain,
        period_start,
        segment_type,
        segment_value,
        {%- for name in measures %}
        {{ measures[name] if measures is mapping else 'sum(' ~ name ~ ')' }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    group by period_grain, period_start, segment_type, segment_value
{%- endmacro %}

{#- The (period, segment) grid a metric mart reports on, so a quiet period still has a row
    (zero counts, NULL rates): the periods of `periods` this build computes (is_dirty) times
    'all' and every value of the vocabularies given ({segment_type: vocabulary name}), plus
    every segment value seen in `seen` (every city, for every period: city rows are recomputed
    every night). A fixed vocabulary, not "values seen", keeps an incremental night exact: the
    rows of a period no change touched never depend on what other periods saw. -#}
{% macro segment_grid(periods, seen, vocabularies) -%}
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
        select distinct segment_type, segment_value from {{ seen }} where segment_type <> 'all'
    ) as segments
    where {{ periods }}.is_dirty or segments.segment_type = 'city'
{%- endmacro %}

{#- The join condition of a grid row and the aggregated row of the same period and segment. -#}
{% macro same_segment(left, right) -%}
    {{ left }}.period_grain = {{ right }}.period_grain
        and {{ left }}.period_start = {{ right }}.period_start
        and {{ left }}.segment_type = {{ right }}.segment_type
        and {{ left }}.segment_value = {{ right }}.segment_value
{%- endmacro %}

{#- The join condition of a grid row and the row of the same period whose segment is
    `segment_type` (a denominator taken from another segment, e.g. every order for a channel
    row). -#}
{% macro same_period(left, right, segment_type='all') -%}
    {{ left }}.period_grain = {{ right }}.period_grain
        and {{ left }}.period_start = {{ right }}.period_start
        and {{ right }}.segment_type = '{{ segment_type }}'
{%- endmacro %}

{#- `relation`'s counts, 0 where the period or segment had none. -#}
{% macro zero_filled(relation, columns) -%}
    {%- for column in columns %}
        coalesce({{ relation }}.{{ column }}, 0) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- A grid's keys (the first columns of a filled grid). -#}
{% macro grid_keys(grid='grid') -%}
    {{ grid }}.period_grain,
        {{ grid }}.period_start,
        {{ grid }}.segment_type,
        {{ grid }}.segment_value
{%- endmacro %}

{#- The grid (segment_grid over `periods`, with the values seen in `seen`) with the measures
    of `aggregated`: counts 0 where a segment had none (`counts`), other measures (rates,
    percentiles) NULL there (`values`). -#}
{% macro filled_grid(periods, seen, aggregated, vocabularies, counts, values=[]) -%}
    with grid as ({{ segment_grid(periods, seen, vocabularies) }})
    select
        grid.period_grain,
        grid.period_start,
        grid.segment_type,
        grid.segment_value,
        {{- zero_filled('a', counts) }}
        {%- for column in values %},
        a.{{ column }}
        {%- endfor %}
    from grid
    left join {{ aggregated }} as a
        on {{ same_segment('grid', 'a') }}
{%- endmacro %}
