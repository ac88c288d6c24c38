{#- The night's "as of" values. business_date is required when dbt runs models: metric
    values depend on it, never on the wall clock. Commands that only compile (parse,
    docs generate, ls) get a placeholder so they work without vars.

    Each value comes from the dbt var of its name, else from an environment variable
    (LOYALTY_BUSINESS_DATE, LOYALTY_BATCH_ID, LOYALTY_LOADED_AT), which is read only when
    dbt executes: a different night then keeps dbt's partial parse (a changed --vars makes
    dbt re-parse the whole project, about 5 s per invocation). The DAG sets the variables. -#}

{% macro night_setting(name, env_name) -%}
    {%- set value = var(name, none) -%}
    {%- if (value is none or (value | string | trim) == '') and execute -%}
        {%- set value = env_var(env_name, '') -%}
    {%- endif -%}
    {{- return(none if value is none or (value | string | trim) == '' else (value | string | trim)) -}}
{%- endmacro %}

{% macro business_date_str() -%}
    {%- set bd = night_setting('business_date', 'LOYALTY_BUSINESS_DATE') -%}
    {%- if bd is none or (bd | string | trim) == '' -%}
        {%- if execute and flags.WHICH in ('run', 'build', 'test', 'seed', 'snapshot') -%}
            {{ exceptions.raise_compiler_error(
                "the night's business date is not set: export LOYALTY_BUSINESS_DATE=YYYY-MM-DD (and LOYALTY_BATCH_ID, LOYALTY_LOADED_AT='YYYY-MM-DD HH:MM:SS'), or pass --vars '{business_date: YYYY-MM-DD, batch_id: YYYY-MM-DD, loaded_at: \"YYYY-MM-DD HH:MM:SS\"}'") }}
        {%- endif -%}
        {%- set bd = '1970-01-01' -%}
    {%- endif -%}
    {%- set bd = bd | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', bd) -%}
        {{ exceptions.raise_compiler_error("dbt var business_date must be YYYY-MM-DD, got '" ~ bd ~ "'") }}
    {%- endif -%}
    {{- bd -}}
{%- endmacro %}

{# SQL date literal of the night's business date #}
{% macro business_date() -%}
    cast('{{ business_date_str() }}' as date)
{%- endmacro %}

{# The first day after the business date (exclusive end of "as of"), as a date. #}
{% macro business_date_end() -%}
    {{ dbt.dateadd('day', 1, business_date()) }}
{%- endmacro %}

{% macro batch_id_str() -%}
    {%- set b = night_setting('batch_id', 'LOYALTY_BATCH_ID') -%}
    {{- (b | string | trim) if (b is not none and (b | string | trim) != '') else business_date_str() -}}
{%- endmacro %}

{# raw batches up to and including tonight's: a re-run of a past night sees what it saw #}
{% macro batch_filter(column='_batch_id') -%}
    {{ column }} <= '{{ batch_id_str() }}'
{%- endmacro %}

{% macro batch_id() -%}
    cast('{{ batch_id_str() }}' as {{ dbt.type_string() }})
{%- endmacro %}

{# _loaded_at: the var loaded_at (the night's data-interval end, UTC), else the end of
   the business day in the business time zone, in UTC. Never the wall clock. #}
{% macro loaded_at() -%}
    {%- set la = night_setting('loaded_at', 'LOYALTY_LOADED_AT') -%}
    {%- if la is not none and (la | string | trim) != '' -%}
        cast('{{ la | string | trim }}' as timestamp)
    {%- else -%}
        {{ from_business_time("cast(" ~ business_date_end() ~ " as timestamp)") }}
    {%- endif -%}
{%- endmacro %}
