{#- The final casts the metric marts share: their key columns, their counts, and the
    metadata every mart carries. -#}

{#- The first columns of every period mart: its grain (period_grain, period_start,
    segment_type, segment_value), with the period's exclusive end and whether the period is
    complete (METRICS.md: its end is at or before the day after the load's business date; the
    period holding the business date is incomplete unless that date is its last day). -#}
{% macro period_keys() -%}
    cast(period_grain as {{ type_varchar() }}) as period_grain,
        cast(period_start as date) as period_start,
        cast({{ period_end('period_grain', 'period_start') }} as date) as period_end,
        cast({{ period_end('period_grain', 'period_start') }} as date) <= cast({{ business_date_end() }} as date)
            as is_complete_period,
        cast(segment_type as {{ type_varchar() }}) as segment_type,
        cast(segment_value as {{ type_varchar() }}) as segment_value
{%- endmacro %}

{#- Counts as the mart's bigint columns, in this order. -#}
{% macro bigints(columns) -%}
    {%- for column in columns %}
        cast({{ column }} as bigint) as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The last columns of every mart: when (_loaded_at, the night's data-interval end) and by
    which night (_batch_id) the row was computed. -#}
{% macro mart_metadata() -%}
    {{ loaded_at() }} as _loaded_at,
    cast({{ batch_id() }} as {{ type_varchar() }}) as _batch_id
{%- endmacro %}
