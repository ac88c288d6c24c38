{#- Custom schema names are used verbatim (staging, intermediate, core, marts), not
    prefixed with the target schema: the raw views, GX and publishing name them directly. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
