{#- Periods: days, weeks (starting on Monday) and months of the business calendar. A period
    is [period_start, period_end) in business dates; int_periods holds every period of the
    calendar. -#}

{#- First day of the period of grain `grain_column` ('day','week','month') containing the
    date `date_column`. Weeks start on Monday (date_trunc('week') on every engine). -#}
{% macro period_start(grain_column, date_column) -%}
    case {{ grain_column }}
        when 'day' then cast({{ date_column }} as date)
        when 'week' then cast({{ dbt.date_trunc('week', 'cast(' ~ date_column ~ ' as timestamp)') }} as date)
        when 'month' then cast({{ dbt.date_trunc('month', 'cast(' ~ date_column ~ ' as timestamp)') }} as date)
    end
{%- endmacro %}

{#- Exclusive end of the period of grain `grain_column` starting at `start_column`. -#}
{% macro period_end(grain_column, start_column) -%}
    case {{ grain_column }}
        when 'day' then cast({{ dbt.dateadd('day', 1, start_column) }} as date)
        when 'week' then cast({{ dbt.dateadd('day', 7, start_column) }} as date)
        when 'month' then cast({{ dbt.dateadd('month', 1, start_column) }} as date)
    end
{%- endmacro %}

{#- A constant relation of the three grains, for cross joins. -#}
{% macro period_grains() -%}
    (values ('day'), ('week'), ('month')) as grains (period_grain)
{%- endmacro %}

{#- One row per period of `periods` (a relation or CTE with period_grain, period_start and
    period_end, e.g. int_periods) and business date it contains: every day of every week and
    month, also those before the calendar's first day or after the business date (the first
    and the last week and month are partial). -#}
{% macro period_days(periods) -%}
    select period_grain, period_start, date_day
    from (
        select
            periods.period_grain,
            periods.period_start,
            periods.period_end,
            cast({{ dbt.dateadd('day', 'offsets.day_offset', 'periods.period_start') }} as date) as date_day
        from {{ periods }} as periods
        cross join (
            select day_offset from (values
                {%- for n in range(31) %} ({{ n }}){% if not loop.last %},{% endif %}{% endfor %}
            ) as offset_values (day_offset)
        ) as offsets
    ) as days
    where date_day < period_end
{%- endmacro %}

{#- `relation` with one row per grain, keyed by the period of `periods` containing the date
    `date_column`: columns period_grain and period_start (named `prefix`period_grain /
    `prefix`period_start), by an equi-join on the date with period_days(periods). Dates
    outside the calendar have no period. Join the result to the periods on both columns:
    plain equi-joins (with the period start computed in a join condition, DuckDB and
    PostgreSQL both plan a cross product and a filter). -#}
{% macro keyed_by_period(relation, date_column, periods, prefix='') -%}
    select
        keyed_source.*,
        period_days.period_grain as {{ prefix }}period_grain,
        period_days.period_start as {{ prefix }}period_start
    from {{ relation }} as keyed_source
    inner join ({{ period_days(periods) }}) as period_days
        on period_days.date_day = keyed_source.{{ date_column }}
{%- endmacro %}

{#- Rows of `relation` with the period of `date_column` (one per grain), for every period of
    `periods` (a CTE of periods_flagged: every period, with is_dirty), carrying that period's
    is_dirty flag. -#}
{% macro events_in_periods(relation, date_column, periods) -%}
    select {{ periods }}.is_dirty, keyed.*
    from ({{ keyed_by_period(relation, date_column, periods) }}) as keyed
    inner join {{ periods }}
        on {{ periods }}.period_grain = keyed.period_grain
        and {{ periods }}.period_start = keyed.period_start
{%- endmacro %}
