{#- Staging: the newest landed version of each source row. -#}

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
