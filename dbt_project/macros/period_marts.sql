{#- The machinery every period mart shares, in one place. A period mart (models/marts/metrics/
    periods/) states only what is its own: the facts it reads, how a fact row maps to its
    periods (events_in_periods) and segment values (segment_rows), its measures
    (sum_by_segment), and its formulas; the grid, the zero fill and the incremental
    bookkeeping (which periods and segments a build computes, which rows it replaces, the
    night a row was computed) come from here, from segments.sql / incremental_periods.sql,
    and from the folder's config in dbt_project.yml.

    Every macro below works on the CTE `periods` of the mart ({{ periods_flagged() }}), whose
    is_dirty says whether this build recomputes a period. -#}

{#- Rows of `relation` with the period of `date_column` (one per grain), for the periods this
    build computes, with their is_dirty flag: an equi-join on the period's day, not a range
    join (both engines planned range joins as cross products). -#}
{% macro events_in_periods(relation, date_column, periods='periods') -%}
    select {{ periods }}.is_dirty, keyed.*
    from ({{ keyed_by_period(relation, date_column) }}) as keyed
    inner join {{ periods }}
        on {{ periods }}.period_grain = keyed.period_grain
        and {{ periods }}.period_start = keyed.period_start
{%- endmacro %}

{#- One row per row of `relation` (which has period_grain, period_start, is_dirty) and
    segment type: 'all', then each of `segments` ({segment_type: column of `relation` holding
    the row's value}), with segment_type and segment_value. Kept only where this build
    computes them (a dirty period, or a city row); `where` (SQL over `relation` and
    segment_types.segment_type) narrows further, e.g. anonymous answers only in 'all'. -#}
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

{#- The join condition of a grid row and the aggregated row of the same period and segment. -#}
{% macro same_segment(left, right) -%}
    {{ left }}.period_grain = {{ right }}.period_grain
        and {{ left }}.period_start = {{ right }}.period_start
        and {{ left }}.segment_type = {{ right }}.segment_type
        and {{ left }}.segment_value = {{ right }}.segment_value
{%- endmacro %}

{#- The grid's keys and `relation`'s counts, 0 where the period or segment had none. -#}
{% macro zero_filled(relation, columns) -%}
    {%- for column in columns %}
        coalesce({{ relation }}.{{ column }}, 0) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The grid rows a mart reports (every period this build computes x 'all' and every value of
    the vocabularies, plus every city and any value seen in `seen`), with the measures of
    `aggregated`: counts 0 where a segment had none (`counts`), other measures (rates,
    percentiles) NULL there (`values`). -#}
{% macro filled_grid(seen, aggregated, vocabularies, counts, values=[]) -%}
    with grid as ({{ segment_grid('periods', seen, vocabularies) }})
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

{#- The first columns of every period mart: its grain. -#}
{% macro period_keys() -%}
    cast(period_grain as {{ type_varchar() }}) as period_grain,
        cast(period_start as date) as period_start,
        cast(segment_type as {{ type_varchar() }}) as segment_type,
        cast(segment_value as {{ type_varchar() }}) as segment_value
{%- endmacro %}

{#- `relation` with the customer's current city ('unknown' when not known yet) and their member
    tier as of `at_column` ('non_member' when none): the city and tier segments of a mart whose
    facts are events of a customer. -#}
{% macro located_and_tiered(relation, customer_column, at_column) -%}
    select
        {{ relation }}.*,
        coalesce(customers.city, 'unknown') as city,
        coalesce(tier_at.member_tier, 'non_member') as member_tier
    from {{ relation }}
    left join {{ ref('dim_customers') }} as customers
        on {{ relation }}.{{ customer_column }} = customers.customer_id
    {{ join_member_tier_at('tier_at', relation ~ '.' ~ customer_column, relation ~ '.' ~ at_column) }}
{%- endmacro %}

{#- A grid's keys (the first columns of a filled grid). -#}
{% macro grid_keys(grid='grid') -%}
    {{ grid }}.period_grain,
        {{ grid }}.period_start,
        {{ grid }}.segment_type,
        {{ grid }}.segment_value
{%- endmacro %}

{#- Counts as the mart's bigint columns, in this order. -#}
{% macro bigints(columns) -%}
    {%- for column in columns %}
        cast({{ column }} as bigint) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The join condition of a grid row and the row of the same period whose segment is
    `segment_type` (a denominator taken from another segment, e.g. every order for a channel row). -#}
{% macro same_period(left, right, segment_type='all') -%}
    {{ left }}.period_grain = {{ right }}.period_grain
        and {{ left }}.period_start = {{ right }}.period_start
        and {{ right }}.segment_type = '{{ segment_type }}'
{%- endmacro %}
