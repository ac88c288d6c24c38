{# Every non-NULL value lies in [min_value, max_value] (rates in [0,1], NPS in [-100,100]). #}
{% test is_between(model, column_name, min_value, max_value) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}
