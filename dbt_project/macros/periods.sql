{# First day of the period of grain `grain_column` ('day','week','month') containing the
   date `date_column`. Weeks start on Monday (date_trunc('week') on both engines). #}
{% macro period_start(grain_column, date_column) -%}
    case {{ grain_column }}
        when 'day' then cast({{ date_column }} as date)
        when 'week' then cast({{ dbt.date_trunc('week', 'cast(' ~ date_column ~ ' as timestamp)') }} as date)
        when 'month' then cast({{ dbt.date_trunc('month', 'cast(' ~ date_column ~ ' as timestamp)') }} as date)
    end
{%- endmacro %}

{# Exclusive end of the period starting at `start_column`. #}
{% macro period_end(grain_column, start_column) -%}
    case {{ grain_column }}
        when 'day' then cast({{ dbt.dateadd('day', 1, start_column) }} as date)
        when 'week' then cast({{ dbt.dateadd('day', 7, start_column) }} as date)
        when 'month' then cast({{ dbt.dateadd('month', 1, start_column) }} as date)
    end
{%- endmacro %}

{# A constant relation of the three grains, for cross joins. #}
{% macro period_grains() -%}
    (values ('day'), ('week'), ('month')) as grains (period_grain)
{%- endmacro %}

{# A constant relation of segment types, for cross joins. #}
{% macro segment_types(types) -%}
    (values {% for t in types %}('{{ t }}'){% if not loop.last %}, {% endif %}{% endfor %}) as segment_types (segment_type)
{%- endmacro %}

{# One row per period (grain, start) of int_periods and business date it contains: every day
   of every week and month, also those before the calendar's first day or after the business
   date (the first and the last week and month are partial). 2,000 periods x 31 offsets. #}
{% macro period_days() -%}
    select period_grain, period_start, date_day
    from (
        select
            periods.period_grain,
            periods.period_start,
            periods.period_end,
            cast({{ dbt.dateadd('day', 'offsets.day_offset', 'periods.period_start') }} as date) as date_day
        from {{ ref('int_periods') }} as periods
        cross join (
            select day_offset from (values
                {%- for n in range(31) %} ({{ n }}){% if not loop.last %},{% endif %}{% endfor %}
            ) as offset_values (day_offset)
        ) as offsets
    ) as days
    where date_day < period_end
{%- endmacro %}

{# `relation` with one row per grain, keyed by the period containing the date `date_column`:
   columns period_grain and period_start (named `prefix`period_grain / `prefix`period_start),
   by an equi-join on the date with period_days(). Dates outside the calendar (int_periods)
   have no period. Join the result to the periods on both columns: plain equi-joins (with the
   period start computed in a join condition, DuckDB and PostgreSQL both plan a cross product
   and a filter). #}
{% macro keyed_by_period(relation, date_column, prefix='') -%}
    select
        keyed_source.*,
        period_days.period_grain as {{ prefix }}period_grain,
        period_days.period_start as {{ prefix }}period_start
    from {{ relation }} as keyed_source
    inner join ({{ period_days() }}) as period_days
        on period_days.date_day = keyed_source.{{ date_column }}
{%- endmacro %}
