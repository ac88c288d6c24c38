{#- The final casts the metric marts share: their key columns, their counts, and the
    metadata every mart carries. -#}

{#- The first columns of every period mart: its grain. -#}
{% macro period_keys() -%}
    cast(period_grain as {{ type_varchar() }}) as period_grain,
        cast(period_start as date) as period_start,
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
