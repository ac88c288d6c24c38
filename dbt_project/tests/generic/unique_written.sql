{# Uniqueness where a new duplicate can appear: the keys of the rows this build wrote, counted
   over the whole table. `scope` names those rows with the placeholders of get_where_subquery
   (__changed_tonight__ for the incremental facts, __recomputed_tonight__ for the period- and
   customer-incremental models). Rows an earlier night wrote were unique then and have not been
   touched since, so any duplicate now involves a row written tonight; the probe reads the key
   columns once (a semi join on tonight's keys) instead of grouping the whole table. On a full
   build every row is tonight's: it is the whole-table test. #}
{% test unique_written(model, column_name, scope) %}
    select {{ column_name }}, count(*) as n_rows
    from {{ model }}
    where {{ column_name }} in (
        select {{ column_name }} from {{ model }} where {{ night_scope(scope) }}
    )
    group by {{ column_name }}
    having count(*) > 1
{% endtest %}

{% test unique_combination_written(model, combination_of_columns, scope) %}
    select {% for c in combination_of_columns %}t.{{ c }}, {% endfor %}count(*) as n_rows
    from {{ model }} as t
    where exists (
        select 1
        from {{ model }} as w
        where {{ night_scope(scope, 'w') }}
            {%- for c in combination_of_columns %}
            and w.{{ c }} = t.{{ c }}
            {%- endfor %}
    )
    group by {% for c in combination_of_columns %}t.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %}
    having count(*) > 1
{% endtest %}
