{# Every non-NULL value lies in [min_value, max_value] (rates in [0,1], NPS in [-100,100]);
   max_value may be left out (a standard error is >= 0). #}
{% test is_between(model, column_name, min_value, max_value=none) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < {{ min_value }}
    {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
{% endtest %}
