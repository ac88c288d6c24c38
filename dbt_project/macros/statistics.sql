{#- Statistics the metric marts compute: safe ratios, continuous percentiles, and the
    normal distribution's tail (p-values). -#}

{# numerator / denominator as a double; NULL when the denominator is 0 or NULL #}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }}) / nullif(cast({{ denominator }} as {{ type_double() }}), 0))
{%- endmacro %}

{# continuous percentile (linear interpolation), NULLs ignored, same on both engines #}
{% macro percentile(fraction, expression) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{#- Upper tail of the standard normal, P(Z > x), for x >= 0 (an expression that is never
    negative, e.g. abs(z)). Hart's double-precision rational approximation (algorithm 5666,
    as given by G. West, "Better approximations to cumulative normal functions", 2005):
    absolute error below 1e-14, on every engine (no erf() in DuckDB or Spark). -#}
{% macro normal_upper_tail(x) -%}
    (case
        when {{ x }} > 37 then cast(0 as {{ type_double() }})
        when {{ x }} < 7.07106781186547 then
            exp(-0.5 * {{ x }} * {{ x }})
            * ((((((0.0352624965998911 * {{ x }} + 0.700383064443688) * {{ x }} + 6.37396220353165) * {{ x }}
                + 33.912866078383) * {{ x }} + 112.079291497871) * {{ x }} + 221.213596169931) * {{ x }}
                + 220.206867912376)
            / (((((((0.0883883476483184 * {{ x }} + 1.75566716318264) * {{ x }} + 16.064177579207) * {{ x }}
                + 86.7807322029461) * {{ x }} + 296.564248779674) * {{ x }} + 637.333633378831) * {{ x }}
                + 793.826512519948) * {{ x }} + 440.413735824752)
        else
            exp(-0.5 * {{ x }} * {{ x }})
            / ({{ x }} + 1.0 / ({{ x }} + 2.0 / ({{ x }} + 3.0 / ({{ x }} + 4.0 / ({{ x }} + 0.65)))))
            / 2.506628274631
    end)
{%- endmacro %}
