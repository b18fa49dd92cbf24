{#-
    Exact rational arithmetic helpers for MRR.

    A normalized monthly amount is unit_amount x quantity x k / (12 x interval_count)
    (k = 12 for month, 1 for year, 52 for week, 365 for day), which is generally not a
    finite decimal (e.g. 52/12). To round the SUM of such amounts exactly (as the ledger
    does), amounts are carried as integer numerator / denominator pairs and summed over the
    least common multiple of the denominators.
-#}

{#- Aggregate: least common multiple of a BIGINT expression over the group (nulls ignored; 1 for none). -#}
{% macro lcm_agg(expression) -%}
    {{ return(adapter.dispatch('lcm_agg', 'stripe_revenue')(expression)) }}
{%- endmacro %}

{% macro duckdb__lcm_agg(expression) -%}
    list_reduce(
        list({{ expression }}) filter (where {{ expression }} is not null),
        lambda a, b: lcm(a, b),
        cast(1 as bigint)
    )
{%- endmacro %}

{#-
    Round a non-negative fraction numerator / denominator (integers, denominator > 0) to the
    nearest integer, halves away from zero, with integer arithmetic only.
-#}
{% macro round_fraction_half_up(numerator, denominator) -%}
    {%- set exact = type_exact_integer() -%}
    {{ integer_divide(
        '2 * cast(' ~ numerator ~ ' as ' ~ exact ~ ') + cast(' ~ denominator ~ ' as ' ~ exact ~ ')',
        '2 * cast(' ~ denominator ~ ' as ' ~ exact ~ ')'
    ) }}
{%- endmacro %}

{#-
    The integer type exact arithmetic is carried in: wide enough for a numerator over the
    least common multiple of a month's denominators times 10000 per stacked discount.
-#}
{% macro type_exact_integer() -%}
    {{ return(adapter.dispatch('type_exact_integer', 'stripe_revenue')()) }}
{%- endmacro %}

{% macro duckdb__type_exact_integer() -%}
    hugeint
{%- endmacro %}

{#- The integer quotient of two non-negative integers (exact, any width). -#}
{% macro integer_divide(dividend, divisor) -%}
    {{ return(adapter.dispatch('integer_divide', 'stripe_revenue')(dividend, divisor)) }}
{%- endmacro %}

{% macro duckdb__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) // ({{ divisor }}))
{%- endmacro %}

{#- A double-precision float, for the approximate `_minor` columns beside the exact ones
    (dbt's type_float is single precision on some engines). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'stripe_revenue')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{#-
    PostgreSQL has lcm() but no aggregate of it: `stripe_revenue_functions` (an on-run-start
    hook) creates one, stripe_lcm_agg, in the target's schema.
-#}
{% macro postgres__lcm_agg(expression) -%}
    {{ target.schema }}.stripe_lcm_agg(cast({{ expression }} as numeric))
{%- endmacro %}

{% macro postgres__type_exact_integer() -%}
    numeric
{%- endmacro %}

{% macro postgres__integer_divide(dividend, divisor) -%}
    div({{ dividend }}, {{ divisor }})
{%- endmacro %}

{#- The functions the models need that an engine lacks, created before any model runs. -#}
{% macro stripe_revenue_functions() -%}
    {{ return(adapter.dispatch('stripe_revenue_functions', 'stripe_revenue')()) }}
{%- endmacro %}

{% macro default__stripe_revenue_functions() -%}
{%- endmacro %}

{% macro postgres__stripe_revenue_functions() -%}
    create schema if not exists {{ target.schema }};
    create or replace aggregate {{ target.schema }}.stripe_lcm_agg (numeric) (
        sfunc = lcm, stype = numeric, initcond = '1'
    )
{%- endmacro %}
