{#- Source timestamps are naive UTC. Business periods are days/weeks/months in
    var('business_tz'). Conversions differ per engine: adapter.dispatch. -#}

{# naive UTC timestamp -> naive business-local timestamp #}
{% macro to_business_time(column) -%}
    {{ return(adapter.dispatch('to_business_time', 'loyalty')(column)) }}
{%- endmacro %}

{% macro default__to_business_time(column) -%}
    (({{ column }}) at time zone 'UTC') at time zone '{{ var("business_tz") }}'
{%- endmacro %}

{% macro duckdb__to_business_time(column) -%}
    timezone('{{ var("business_tz") }}', timezone('UTC', cast({{ column }} as timestamp)))
{%- endmacro %}

{#- Spark (session time zone UTC): from_utc_timestamp shifts a UTC wall clock to the zone's -#}
{% macro spark__to_business_time(column) -%}
    cast(from_utc_timestamp(cast({{ column }} as timestamp), '{{ var("business_tz") }}') as timestamp)
{%- endmacro %}

{# naive business-local timestamp -> naive UTC timestamp #}
{% macro from_business_time(column) -%}
    {{ return(adapter.dispatch('from_business_time', 'loyalty')(column)) }}
{%- endmacro %}

{% macro default__from_business_time(column) -%}
    (({{ column }}) at time zone '{{ var("business_tz") }}') at time zone 'UTC'
{%- endmacro %}

{% macro duckdb__from_business_time(column) -%}
    timezone('UTC', timezone('{{ var("business_tz") }}', cast({{ column }} as timestamp)))
{%- endmacro %}

{# naive UTC timestamp -> business date #}
{% macro to_business_date(column) -%}
    cast({{ to_business_time(column) }} as date)
{%- endmacro %}

{% macro spark__from_business_time(column) -%}
    cast(to_utc_timestamp(cast({{ column }} as timestamp), '{{ var("business_tz") }}') as timestamp)
{%- endmacro %}
