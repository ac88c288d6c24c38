{# Keep the newest version of each key from a raw view that holds every landed batch
   version. `order_by` decides "newest"; only batches up to tonight's are seen. #}
{% macro latest_version(relation, partition_by, order_by='updated_at desc, _batch_id desc, _extracted_at desc') -%}
    select *
    from (
        select
            versions.*,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as _version_rank
        from {{ relation }} as versions
        where {{ batch_filter('versions._batch_id') }}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{# numerator / denominator as a double; NULL when the denominator is 0 or NULL #}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }}) / nullif(cast({{ denominator }} as {{ type_double() }}), 0))
{%- endmacro %}

{# continuous percentile (linear interpolation), NULLs ignored, same on both engines #}
{% macro percentile(fraction, expression) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

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

{# Keyed pseudonym of a normalized PII value: HMAC-SHA256(key, value) as 64 hex digits, the
   same on every engine. The key never appears in SQL: on DuckDB a function registered by the
   dbt-duckdb plugin loyalty.warehouse.pii_duckdb reads it from LOYALTY_PII_KEY; on PostgreSQL
   pgcrypto's hmac() reads the session setting loyalty.pii_key (set from PGOPTIONS when dbt
   connects). NULL and '' stay NULL. #}
{% macro pii_hash(normalized_expression) -%}
    case when {{ normalized_expression }} is null or {{ normalized_expression }} = '' then null
         else {{ adapter.dispatch('pii_pseudonym', 'loyalty')(normalized_expression) }}
    end
{%- endmacro %}

{% macro default__pii_pseudonym(expression) -%}
    loyalty_pseudonym({{ expression }})
{%- endmacro %}

{% macro postgres__pii_pseudonym(expression) -%}
    encode(hmac(convert_to({{ expression }}, 'UTF8'), convert_to(current_setting('loyalty.pii_key'), 'UTF8'), 'sha256'), 'hex')
{%- endmacro %}

{#- Spark: HMAC-SHA256 from sha2, H((K ^ opad) || H((K ^ ipad) || m)). The pads are derived
    from the key by loyalty.warehouse.pii and reach the session as settings (profiles.yml);
    Spark substitutes ${...} when it parses, so the SQL dbt logs holds only their names. -#}
{% macro spark__pii_pseudonym(expression) -%}
    sha2(concat(unhex('${spark.loyalty.pii_opad}'), unhex(sha2(concat(unhex('${spark.loyalty.pii_ipad}'), encode({{ expression }}, 'UTF-8')), 256))), 256)
{%- endmacro %}

{#- What a build needs on its engine before any model: pgcrypto on PostgreSQL (hmac). -#}
{% macro engine_run_start() -%}
    {{ return(adapter.dispatch('engine_run_start', 'loyalty')()) }}
{%- endmacro %}

{% macro default__engine_run_start() -%}select 1{%- endmacro %}

{% macro postgres__engine_run_start() -%}
    create extension if not exists pgcrypto
{%- endmacro %}

{# The import CTE of an incremental fact (models/marts/core/facts/): every row of `relation`
   on a full build; on an incremental night the rows changed since the newest already loaded
   (`since`, default: updated_at minus the lookback, for late or re-landed versions). #}
{% macro changed_rows(relation, since=none) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    where {{ since or incremental_since('updated_at') }}
    {%- endif %}
{%- endmacro %}

{# Incremental facts: re-read rows changed since the newest updated_at already loaded,
   minus a lookback (late or re-landed versions). delete+insert on the unique key. #}
{% macro incremental_since(column='updated_at') -%}
    {{ column }} >= (
        select {{ dbt.dateadd('day', -1 * var('incremental_lookback_days') | int, "coalesce(max(" ~ column ~ "), cast('1900-01-01' as timestamp))") }}
        from {{ this }}
    )
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

{#- Upper tail of the standard normal, P(Z > x), for x >= 0 (an expression that is never
    negative, e.g. abs(z)). Hart's double-precision rational approximation (algorithm 5666,
    as given by G. West, "Better approximations to cumulative normal functions", 2005):
    absolute error below 1e-14, on every engine (no erf() in DuckDB or Spark). -#}
{% macro normal_upper_tail(x) -%}
    (case
        when {{ x }} > 37 then cast(0 as {{ type_double() }})
        when {{ x }} < 7.07106781186547 then
            exp(-0.5 * {{ x }} * {{ x }})
            * ((((((0.0352624965998911 * {{ x }} + 0.700383064443688) * {{ x }} + 6.37396220353165) * {{ x }}
                + 33.912866078383) * {{ x }} + 112.079291497871) * {{ x }} + 221.213596169931) * {{ x }}
                + 220.206867912376)
            / (((((((0.0883883476483184 * {{ x }} + 1.75566716318264) * {{ x }} + 16.064177579207) * {{ x }}
                + 86.7807322029461) * {{ x }} + 296.564248779674) * {{ x }} + 637.333633378831) * {{ x }}
                + 793.826512519948) * {{ x }} + 440.413735824752)
        else
            exp(-0.5 * {{ x }} * {{ x }})
            / ({{ x }} + 1.0 / ({{ x }} + 2.0 / ({{ x }} + 3.0 / ({{ x }} + 4.0 / ({{ x }} + 0.65)))))
            / 2.506628274631
    end)
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
