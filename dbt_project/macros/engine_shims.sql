{#- Engine shims: expressions and settings that differ between DuckDB, PostgreSQL and Spark,
    behind adapter.dispatch (dbt's own cross-database macros cover the rest). -#}

{# hours between two timestamps, fractional (elapsed time, sub-second parts included) #}
{% macro hours_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('hours_between', 'loyalty')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__hours_between(start_ts, end_ts) -%}
    (cast(extract(epoch from ({{ end_ts }} - {{ start_ts }})) as {{ type_double() }}) / 3600.0)
{%- endmacro %}

{#- Spark: microseconds since the epoch (the session time zone is UTC, timestamps are naive UTC) -#}
{% macro spark__hours_between(start_ts, end_ts) -%}
    (cast(unix_micros(cast({{ end_ts }} as timestamp)) - unix_micros(cast({{ start_ts }} as timestamp)) as double) / 3600000000.0)
{%- endmacro %}

{#- Type names that differ per engine (Spark has neither `double precision` nor a `varchar`
    without a length) -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'loyalty')()) }}
{%- endmacro %}
{% macro default__type_double() -%}double precision{%- endmacro %}
{% macro spark__type_double() -%}double{%- endmacro %}

{% macro type_varchar() -%}
    {{ return(adapter.dispatch('type_varchar', 'loyalty')()) }}
{%- endmacro %}
{% macro default__type_varchar() -%}varchar{%- endmacro %}
{% macro spark__type_varchar() -%}string{%- endmacro %}

{#- What a build needs on its engine before any model: pgcrypto on PostgreSQL (hmac). -#}
{% macro engine_run_start() -%}
    {{ return(adapter.dispatch('engine_run_start', 'loyalty')()) }}
{%- endmacro %}

{% macro default__engine_run_start() -%}select 1{%- endmacro %}

{% macro postgres__engine_run_start() -%}
    create extension if not exists pgcrypto
{%- endmacro %}

{#- Session settings a model's build needs on its engine (a pre-hook of every model).
    PostgreSQL: no nested loops. Its row estimates for these queries (period keys, CTEs,
    range conditions on tier spells) are off by orders of magnitude, and a nested loop on
    such an estimate turns a 10 ms query into a minute (dim_members: 66 s -> 8 ms). -#}
{% macro engine_session_settings() -%}
    {{ return(adapter.dispatch('engine_session_settings', 'loyalty')()) }}
{%- endmacro %}

{% macro default__engine_session_settings() -%}{%- endmacro %}

{% macro postgres__engine_session_settings() -%}
    set enable_nestloop = off
{%- endmacro %}

{#- ISO day of the week, Monday 1 to Sunday 7 -#}
{% macro iso_day_of_week(date_expr) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'loyalty')(date_expr)) }}
{%- endmacro %}
{% macro default__iso_day_of_week(date_expr) -%}extract(isodow from {{ date_expr }}){%- endmacro %}
{% macro spark__iso_day_of_week(date_expr) -%}extract(dayofweek_iso from {{ date_expr }}){%- endmacro %}

{#- Replace every match of a regular expression (PostgreSQL and DuckDB need flag 'g'; Spark's
    fourth argument is a position, and it replaces every match) -#}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'loyalty')(expression, pattern, replacement)) }}
{%- endmacro %}
{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}
{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}
