{# The (period, segment) grid a metric mart reports on: every period of int_periods times
   every segment value seen in `aggregated` (plus 'all'), so a quiet period still has a row
   (zero counts, NULL rates). #}
{% macro segment_grid(periods, aggregated) -%}
    select
        {{ periods }}.period_grain,
        {{ periods }}.period_start,
        segments.segment_type,
        segments.segment_value
    from {{ periods }}
    cross join (
        select distinct segment_type, segment_value from {{ aggregated }}
        union
        select cast('all' as {{ dbt.type_string() }}) as segment_type, cast('all' as {{ dbt.type_string() }}) as segment_value
    ) as segments
{%- endmacro %}

{# casts shared by every metric mart's last columns #}
{% macro mart_metadata() -%}
    {{ loaded_at() }} as _loaded_at,
    {{ batch_id() }} as _batch_id
{%- endmacro %}
