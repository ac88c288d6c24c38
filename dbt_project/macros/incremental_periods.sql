{#- Period-incremental models: on an incremental night a model recomputes only the periods
    that the changes since the last completed build can alter (int_dirty_periods) and
    replaces exactly those periods in its table. A full build (first run, --full-refresh)
    computes every period. -#}

{#- is_incremental(), false where there is no target (unit tests: `this` is none). -#}
{% macro incremental_night() -%}
    {{- return(this is not none and is_incremental()) -}}
{%- endmacro %}

{#- Tonight's dirty periods (grain, start) for the model's config dirty_sources: the
    periods the changes to those source tables can alter (int_dirty_periods). -#}
{% macro dirty_period_keys() -%}
    {%- set sources = config.get('dirty_sources') -%}
    {%- if not sources -%}
        {{ exceptions.raise_compiler_error("model " ~ this.identifier ~ " is period-incremental: set config dirty_sources (the source tables it reads)") }}
    {%- endif -%}
    select distinct period_grain, period_start
    from {{ ref('int_dirty_periods') }}
    where source_table in ('*', 'calendar'{% for s in sources %}, '{{ s }}'{% endfor %})
{%- endmacro %}

{#- The periods this build computes: all of them, or tonight's dirty ones. -#}
{% macro dirty_periods() -%}
    select periods.*
    from {{ ref('int_periods') }} as periods
    {%- if incremental_night() %}
    inner join ({{ dirty_period_keys() }}) as dirty
        on periods.period_grain = dirty.period_grain
        and periods.period_start = dirty.period_start
    {%- endif %}
{%- endmacro %}

{#- Every period, with is_dirty: true when this build recomputes it. Marts use it because
    their city rows are recomputed for every period every night (the city is the customer's
    current one, so a customer who moves changes the city rows of their whole history). -#}
{% macro periods_flagged() -%}
    select
        periods.*,
        {% if incremental_night() -%} dirty.period_start is not null {%- else -%} true {%- endif %} as is_dirty
    from {{ ref('int_periods') }} as periods
    {%- if incremental_night() %}
    left join ({{ dirty_period_keys() }}) as dirty
        on periods.period_grain = dirty.period_grain
        and periods.period_start = dirty.period_start
    {%- endif %}
{%- endmacro %}

{#- Custom incremental strategy 'replace_periods': delete the target's rows of the dirty
    periods for its dirty_sources (and, with config replace_city_rows=true, every segment_type = 'city' row), then
    insert what the model computed. Runs inside the model's transaction, so a reader (or a
    failure) never sees a half-replaced table. -#}
{% macro get_incremental_replace_periods_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set cols = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where exists (
            select 1
            from ({{ dirty_period_keys() }}) as dirty
            where dirty.period_grain = {{ target.identifier }}.period_grain
                and dirty.period_start = {{ target.identifier }}.period_start
        )
        {%- if config.get('replace_city_rows', false) %}
        or segment_type = 'city'
        {%- endif %};

    insert into {{ target }} ({{ cols }})
    select {{ cols }} from {{ source }}
{%- endmacro %}

{#- Every version (up to tonight's batch) of the keys of `relation` that have a version landed
    after the last completed build (CTE `watermark`, column batch_id) or in tonight's batch. -#}
{% macro changed_versions(relation, key) -%}
    select versions.*
    from {{ relation }} as versions
    where {{ batch_filter('versions._batch_id') }}
        and versions.{{ key }} in (
            select changed.{{ key }}
            from {{ relation }} as changed
            cross join watermark
            where {{ batch_filter('changed._batch_id') }}
                and (changed._batch_id > watermark.batch_id or changed._batch_id = '{{ batch_id_str() }}')
        )
{%- endmacro %}
