{#- Incremental builds. Three kinds of incremental model:
      - the facts (models/marts/core/facts/): delete+insert of the rows changed since the
        newest already loaded (changed_rows);
      - period-incremental models (config dirty_sources; the period marts, by their folder):
        recompute only the periods that the changes since the last completed build can alter
        (int_dirty_periods) and replace exactly those periods (strategy replace_changed);
      - customer-incremental models (config changed_customer_sources): recompute the changed
        customers' rows (int_changed_customers).
    A full build (first run, --full-refresh) computes everything. A model reads
    int_dirty_periods / int_changed_customers in its own import CTEs and passes the CTE to
    these macros; the strategy finds the same relations among the model's inputs. -#}

{#- is_incremental(), false where there is no target (unit tests: `this` is none). -#}
{% macro incremental_night() -%}
    {{- return(this is not none and is_incremental()) -}}
{%- endmacro %}

{#- Tonight's dirty periods (grain, start) for the model's config dirty_sources, from
    `dirty_periods` (int_dirty_periods, a CTE or relation): the periods the changes to those
    source tables can alter. -#}
{% macro dirty_period_keys(dirty_periods) -%}
    {%- set sources = config.get('dirty_sources') -%}
    {%- if sources is none -%}
        {{ exceptions.raise_compiler_error("model " ~ this.identifier ~ " is period-incremental: set config dirty_sources (the source tables it reads)") }}
    {%- endif -%}
    select distinct period_grain, period_start
    from {{ dirty_periods }}
    where source_table in ('*', 'calendar'{% for s in sources %}, '{{ s }}'{% endfor %})
{%- endmacro %}

{#- Every period of `all_periods` (int_periods), with is_dirty: true when this build
    recomputes it (a dirty period of `dirty_periods`, int_dirty_periods, for the model's
    dirty_sources; every period on a full build). Marts keep the periods that are not dirty
    because their city rows are recomputed for every period every night (the city is the
    customer's current one, so a customer who moves changes the city rows of their whole
    history). -#}
{% macro periods_flagged(all_periods, dirty_periods) -%}
    select
        periods.*,
        {% if incremental_night() -%} dirty.period_start is not null {%- else -%} true {%- endif %} as is_dirty
    from {{ all_periods }} as periods
    {%- if incremental_night() %}
    left join ({{ dirty_period_keys(dirty_periods) }}) as dirty
        on periods.period_grain = dirty.period_grain
        and periods.period_start = dirty.period_start
    {%- endif %}
{%- endmacro %}

{#- The changed customers for the model's config changed_customer_sources, from
    `changed_customers` (int_changed_customers, a CTE or relation). -#}
{% macro changed_customer_ids(changed_customers) -%}
    select customer_id
    from {{ changed_customers }}
    where source_table in ({% for s in config.get('changed_customer_sources') %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#- The relation of the model `name` that the model being built reads (one of its ref()s), for
    a materialization that needs the relation the model's import CTE names. Raises when the
    model does not read it. -#}
{% macro model_input(name) -%}
    {%- for node_id in model.depends_on.nodes -%}
        {%- if node_id.startswith('model.') and node_id.split('.')[-1] == name -%}
            {{- return(project_relation(name)) -}}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("model " ~ model.name ~ " is built with strategy replace_changed, which needs "
        ~ name ~ ": name it in an import CTE at the top of the model (" ~ name ~ " as (select * from its ref))") }}
{%- endmacro %}

{#- The relation of the project's model `name` (the project's hooks: the build watermark). -#}
{% macro project_relation(name) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.name == name -%}
            {{- return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) -}}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("no model named " ~ name ~ " in the project") }}
{%- endmacro %}

{#- Custom incremental strategy 'replace_changed': delete the target's rows that tonight's
    build recomputed, then insert what the model computed. The rows recomputed are those of
      - the dirty periods for the model's dirty_sources (config; models with periods),
      - every segment_type = 'city' row (config replace_city_rows=true, the marts),
      - the changed customers for changed_customer_sources (config; int_changed_customers),
      - the keys listed in a model the model reads (config replace_keys: {model: [columns]},
        e.g. the cohorts of int_dirty_cohorts).
    Runs inside the model's transaction, so a reader (or a failure) never sees a
    half-replaced table. -#}
{% macro get_incremental_replace_changed_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set cols = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ replace_changed_condition(target.identifier) }};

    insert into {{ target }} ({{ cols }})
    select {{ cols }} from {{ source }}
{%- endmacro %}

{#- The rows of a replace_changed model that tonight's build recomputes (a condition on the
    target's columns, the target named `alias`). -#}
{% macro replace_changed_condition(alias) -%}
    {%- set conditions = [] -%}
    {%- if config.get('dirty_sources') is not none -%}
        {%- do conditions.append("exists (select 1 from (" ~ dirty_period_keys(model_input('int_dirty_periods')) ~ ") as dirty where dirty.period_grain = "
            ~ alias ~ ".period_grain and dirty.period_start = " ~ alias ~ ".period_start)") -%}
    {%- endif -%}
    {%- if config.get('replace_city_rows', false) -%}
        {%- do conditions.append(alias ~ ".segment_type = 'city'") -%}
    {%- endif -%}
    {%- if config.get('changed_customer_sources') -%}
        {%- do conditions.append(alias ~ ".customer_id in (" ~ changed_customer_ids(model_input('int_changed_customers')) ~ ")") -%}
    {%- endif -%}
    {%- for keys_model, columns in (config.get('replace_keys') or {}).items() -%}
        {%- set matches = [] -%}
        {%- for column in columns -%}
            {%- do matches.append("replaced." ~ column ~ " = " ~ alias ~ "." ~ column) -%}
        {%- endfor -%}
        {%- do conditions.append("exists (select 1 from " ~ model_input(keys_model) ~ " as replaced where "
            ~ (matches | join(' and ')) ~ ")") -%}
    {%- endfor -%}
    {%- if not conditions -%}
        {{ exceptions.raise_compiler_error("model " ~ this.identifier ~ ": strategy replace_changed needs dirty_sources, changed_customer_sources or replace_keys") }}
    {%- endif -%}
    {{ conditions | join('\n        or ') }}
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

{#- The relation int_build_watermark (one row per completed build) when this is an
    incremental night: it exists and the run is not --full-refresh; else none. Looked up,
    not ref()'d: it is the last node of the build, every incremental model is upstream of it. -#}
{% macro build_watermark() -%}
    {%- if not execute or flags.FULL_REFRESH or this is none -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- set relation = adapter.get_relation(database=this.database, schema=this.schema,
                                            identifier='int_build_watermark') -%}
    {{- return(relation) -}}
{%- endmacro %}

{#- The last completed build (batch_id, business_date, calendar_start): one row, or none. -#}
{% macro watermark_select(watermark) -%}
    {%- if watermark is not none %}
    select batch_id, business_date, calendar_start
    from {{ watermark }}
    order by batch_id desc
    limit 1
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as batch_id,
        cast(null as date) as business_date,
        cast(null as date) as calendar_start
    {%- endif %}
{%- endmacro %}


{#- The build watermark, intermediate.int_build_watermark (batch_id, business_date,
    calendar_start, built_at): one row per completed build, written at the end of a `dbt
    build`/`run` (on-run-end) in which every period-incremental model (strategy
    replace_changed) was built and nothing failed. A night that failed anywhere, or a partial
    build (--select), leaves it where it was, so the next night recomputes everything changed
    since the last completed one (int_changed_dates). A new period model needs nothing here. -#}
{% macro record_build_watermark(results) -%}
    {%- set periods = project_relation('int_periods') if execute else none -%}
    {%- if not execute or flags.WHICH not in ('build', 'run') -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set required = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.config.get('incremental_strategy') == 'replace_changed' -%}
            {%- do required.append(node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set built = [] -%}
    {%- set failed = [] -%}
    {%- for result in results -%}
        {%- if result.status in ('error', 'fail', 'skipped', 'runtime error') -%}
            {%- do failed.append(result.node.unique_id) -%}
        {%- elif result.node.resource_type == 'model' -%}
            {%- do built.append(result.node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set missing = required | reject('in', built) | list -%}
    {%- if failed or missing -%}
        {{- log("build watermark not advanced: " ~ ((failed | length) ~ " node(s) failed or skipped" if failed
                else "not built: " ~ (missing | join(', '))), info=true) -}}
        {{- return('') -}}
    {%- endif -%}
    {%- set watermark = periods.schema ~ '.int_build_watermark' -%}
    {{- return(adapter.dispatch('write_build_watermark', 'loyalty')(watermark, periods)) -}}
{%- endmacro %}

{% macro default__write_build_watermark(watermark, periods) -%}
    create table if not exists {{ watermark }} (
        batch_id {{ dbt.type_string() }}, business_date date, calendar_start date, built_at {{ dbt.type_timestamp() }}
    );
    delete from {{ watermark }} where {{ 'true' if flags.FULL_REFRESH else 'batch_id = ' ~ batch_id() }};
    insert into {{ watermark }} (batch_id, business_date, calendar_start, built_at)
    select
        {{ batch_id() }},
        {{ business_date() }},
        (select min(period_start) from {{ periods }} where period_grain = 'day'),
        {{ loaded_at() }}
{%- endmacro %}

{#- Spark: one statement per call and no DELETE; the rows kept are rewritten (they are few) -#}
{% macro spark__write_build_watermark(watermark, periods) -%}
    {%- do run_query("create table if not exists " ~ watermark ~ " (batch_id string, business_date date, "
                     ~ "calendar_start date, built_at timestamp) using parquet") -%}
    {%- do run_query("drop table if exists " ~ watermark ~ "__dbt_next") -%}
    {%- do run_query("create table " ~ watermark ~ "__dbt_next using parquet as select * from " ~ watermark
                     ~ " where " ~ ('false' if flags.FULL_REFRESH else 'batch_id <> ' ~ batch_id())
                     ~ " union all select " ~ batch_id() ~ ", " ~ business_date() ~ ", (select min(period_start) from "
                     ~ periods ~ " where period_grain = 'day'), " ~ loaded_at()) -%}
    {%- do run_query("insert overwrite table " ~ watermark ~ " select * from " ~ watermark ~ "__dbt_next") -%}
    {%- do run_query("drop table if exists " ~ watermark ~ "__dbt_next") -%}
    select 1
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
