{#- Apache Spark (dbt-spark, Parquet tables; no Delta, so no DELETE and no MERGE).

    The project's two incremental strategies get a Spark form here. dbt-spark's incremental
    materialization accepts only append / insert_overwrite / merge / microbatch and calls
    dbt_spark_get_incremental_sql; these two macros (the root project's win over the adapter's)
    add ours:
      delete+insert (the facts, on unique_key) and replace_changed (the period models): the
      target's rows that tonight's build does not recompute, plus what it computed, are written
      to <model>__dbt_next, then `insert overwrite` replaces the target with them. The
      intermediate table is needed because Spark cannot overwrite a table while reading it
      (the model's own SQL reads {{ this }} on an incremental night).
    The rows kept are exactly those DELETE would keep on DuckDB and PostgreSQL: a row goes when
    the condition is true, stays when it is false or NULL. -#}

{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy in ('delete+insert', 'replace_changed') -%}
        {%- do return(raw_strategy) -%}
    {%- endif -%}
    {%- do return(dbt_spark.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) -%}
{%- endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- if strategy not in ('delete+insert', 'replace_changed') -%}
        {%- do return(dbt_spark.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates)) -%}
    {%- endif -%}
    {%- set dest_columns = adapter.get_columns_in_relation(target) -%}
    {%- set quoted = [] -%}
    {%- for c in dest_columns -%}{%- do quoted.append('`' ~ c.name ~ '`') -%}{%- endfor -%}
    {%- set cols = quoted | join(', ') -%}
    {%- set next = target.incorporate(path={"identifier": target.identifier ~ '__dbt_next'}) -%}
    {%- if strategy == 'delete+insert' -%}
        {%- if unique_key is none -%}
            {{ exceptions.raise_compiler_error("model " ~ target.identifier ~ ": delete+insert needs a unique_key") }}
        {%- endif -%}
        {%- set keys = [unique_key] if unique_key is string else unique_key -%}
        {%- set kept -%}
            select {% for c in dest_columns %}kept.`{{ c.name }}`{% if not loop.last %}, {% endif %}{% endfor %}
            from {{ target }} as kept
            left anti join {{ source }} as changed
                on {% for k in keys %}kept.{{ k }} = changed.{{ k }}{% if not loop.last %} and {% endif %}{% endfor %}
        {%- endset -%}
    {%- else -%}
        {%- set kept -%}
            select {{ cols }}
            from {{ target }} as {{ target.identifier }}
            where not coalesce({{ replace_changed_condition(target.identifier) }}, false)
        {%- endset -%}
    {%- endif -%}
    {%- call statement('spark_drop_next') -%}drop table if exists {{ next }}{%- endcall -%}
    {%- call statement('spark_build_next') -%}
        create table {{ next }} using parquet as
        {{ kept }}
        union all
        select {{ cols }} from {{ source }}
    {%- endcall -%}
    insert overwrite table {{ target }}
    select {{ cols }} from {{ next }}
{%- endmacro %}

{#- The contract check casts NULL to each column's declared data_type; Spark has no `varchar`
    without a length, so the contracts' `varchar` is checked as Spark's `string`. -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set mapped = {} -%}
    {%- for name in columns -%}
        {%- set col = {} -%}
        {%- do col.update(columns[name]) -%}
        {%- if col.get('data_type') and col['data_type'].strip().lower() == 'varchar' -%}
            {%- do col.update({'data_type': 'string'}) -%}
        {%- endif -%}
        {%- do mapped.update({name: col}) -%}
    {%- endfor -%}
    {{ dbt.default__get_empty_schema_sql(mapped) }}
{%- endmacro %}
