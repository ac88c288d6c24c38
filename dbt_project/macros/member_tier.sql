{# Left-join the member tier spell of customer `customer_column` in force at timestamp
   `at_column` (naive UTC), only while the customer is a member at that time
   (joined_at < t and (cancelled_at is NULL or cancelled_at >= t), METRICS.md).
   Use coalesce(<alias>.member_tier, 'non_member') for the segment value. #}
{% macro join_member_tier_at(alias, customer_column, at_column) -%}
    left join {{ ref('dim_members') }} as {{ alias }}
        on {{ alias }}.customer_id = {{ customer_column }}
        and {{ alias }}.valid_from <= {{ at_column }}
        and ({{ alias }}.valid_to is null or {{ alias }}.valid_to > {{ at_column }})
        and {{ alias }}.joined_at < {{ at_column }}
        and ({{ alias }}.cancelled_at is null or {{ alias }}.cancelled_at >= {{ at_column }})
{%- endmacro %}
