{# Order of member tiers, for upgrade/downgrade. #}
{% macro tier_rank(column) -%}
    case {{ column }} when 'bronze' then 1 when 'silver' then 2 when 'gold' then 3 when 'platinum' then 4 end
{%- endmacro %}
