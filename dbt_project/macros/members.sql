{#- Membership as METRICS.md defines it: a customer is a member at t when joined_at < t and
    (cancelled_at is NULL or cancelled_at >= t). -#}

{#- Left-join the tier spell of `members` (a relation or CTE over dim_members, one row per tier
    spell) in force at timestamp `at_column` (naive UTC) for customer `customer_column`, only
    while the customer is a member at that time. Use coalesce(<alias>.member_tier,
    'non_member') for the segment value. -#}
{% macro join_member_tier_at(members, alias, customer_column, at_column) -%}
    left join {{ members }} as {{ alias }}
        on {{ alias }}.customer_id = {{ customer_column }}
        and {{ alias }}.valid_from <= {{ at_column }}
        and ({{ alias }}.valid_to is null or {{ alias }}.valid_to > {{ at_column }})
        and {{ alias }}.joined_at < {{ at_column }}
        and ({{ alias }}.cancelled_at is null or {{ alias }}.cancelled_at >= {{ at_column }})
{%- endmacro %}

{#- Order of the member tiers (bronze 1 .. platinum 4), for upgrades and downgrades. -#}
{% macro tier_rank(column) -%}
    case {{ column }} when 'bronze' then 1 when 'silver' then 2 when 'gold' then 3 when 'platinum' then 4 end
{%- endmacro %}
