{#- Test scopes. A test's `where` config (or the `scope` of the unique_written tests) may name
    the rows a night built:
      __recomputed_tonight__  rows this build (re)computed: _batch_id = tonight's batch
                              (period- and customer-incremental models and the marts; on a
                              full build that is every row);
      __changed_tonight__     fact rows whose newest version landed tonight
                              (source_batch_id = tonight's batch); every row on --full-refresh.
    Rows an earlier night built were tested that night and have not changed since. Uniqueness
    is checked for tonight's keys over the whole table (unique_written): a row replaced twice
    would be a duplicate of an older one. dbt's own pattern: override get_where_subquery to
    fill placeholders at run time. -#}
{% macro night_scope(where, alias=none) -%}
    {%- set prefix = (alias ~ '.') if alias else '' -%}
    {%- set tonight = "'" ~ batch_id_str() ~ "'" -%}
    {%- set where = where | replace('__recomputed_tonight__', prefix ~ '_batch_id = ' ~ tonight) -%}
    {%- set where = where | replace('__changed_tonight__',
                                    '1 = 1' if flags.FULL_REFRESH else prefix ~ 'source_batch_id = ' ~ tonight) -%}
    {{- return(where) -}}
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ night_scope(where) }}) dbt_subquery
        {%- endset -%}
        {{- return(filtered) -}}
    {%- else -%}
        {{- return(relation) -}}
    {%- endif -%}
{%- endmacro %}
