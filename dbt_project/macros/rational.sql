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

{#-
    max(value, 0) of an exact value, but null when the value is: greatest(value, 0) would be 0,
    as greatest skips nulls, and on Spark an overflow is a null that must reach the not_null tests.
-#}
{% macro clamp_at_zero(value) -%}
    case when {{ value }} < 0 then 0 else {{ value }} end
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

{#-
    Spark SQL has no gcd, lcm, nor a loop or recursion in a function, but folds an array with a
    lambda (`aggregate`): the least common multiple folds the group's values, and each greatest
    common divisor is Euclid's algorithm folded over a fixed number of steps (see spark_gcd).
-#}
{% macro spark__lcm_agg(expression) -%}
    aggregate(
        collect_list(cast({{ expression }} as decimal(38, 0))),
        cast(1 as decimal(38, 0)),
        -- lcm / gcd is exact (the gcd divides it)
        (lcm, value) -> cast(lcm / {{ spark_gcd('lcm', 'value') }} as decimal(38, 0)) * value
    )
{%- endmacro %}

{#-
    gcd(a, b) of two non-negative decimal(38, 0) values: Euclid's algorithm, one step per element
    of a fixed sequence. By Lamé's theorem it takes at most 5 steps per decimal digit of the
    smaller value, so 190 steps reach the end for any two values of 38 digits; later steps
    keep the pair (gcd, 0) as it is.
-#}
{% macro spark_gcd(a, b) -%}
    aggregate(
        sequence(1, 190),
        named_struct('a', {{ a }}, 'b', {{ b }}),
        (pair, step) -> case
            when pair.b = 0 then pair
            else named_struct('a', pair.b, 'b', pair.a % pair.b)
        end
    ).a
{%- endmacro %}

{#-
    decimal(38, 0): exact up to 10^38 - 1, about DuckDB's hugeint (1.7 x 10^38). dbt-spark turns
    Spark's ANSI mode off, so a result beyond it is null rather than an error: the models' not_null
    tests on the exact columns are what catches it (clamp_at_zero keeps such a null).
-#}
{% macro spark__type_exact_integer() -%}
    decimal(38, 0)
{%- endmacro %}

{#-
    Spark's `div` returns a bigint, wrapping past 2^63 without an error (ANSI mode off), and its
    `/` rounds decimals to 6 places (1999999 / 2000000 is 1.000000): the remainder is taken off
    first, so the division is exact, and its quotient is null past 10^32.
-#}
{% macro spark__integer_divide(dividend, divisor) -%}
    {%- set dividend = 'cast(' ~ dividend ~ ' as decimal(38, 0))' -%}
    {%- set divisor = 'cast(' ~ divisor ~ ' as decimal(38, 0))' -%}
    cast(({{ dividend }} - {{ dividend }} % {{ divisor }}) / {{ divisor }} as decimal(38, 0))
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- The functions the models need that an engine lacks, created before any model runs. -#}
{% macro stripe_revenue_functions() -%}
    {{ return(adapter.dispatch('stripe_revenue_functions', 'stripe_revenue')()) }}
{%- endmacro %}

{% macro default__stripe_revenue_functions() -%}
{%- endmacro %}

{#- Spark lacks no function the hook could create (lcm_agg folds inline), but reads UTC months and
    days in its session's time zone, which must therefore be UTC (macros/timestamps.sql). -#}
{% macro spark__stripe_revenue_functions() -%}
    select assert_true(
        current_timezone() in ('UTC', 'Etc/UTC'),
        'spark.sql.session.timeZone must be UTC (the profile sets it), not ' || current_timezone()
    )
{%- endmacro %}

{% macro postgres__stripe_revenue_functions() -%}
    create schema if not exists {{ target.schema }};
    create or replace aggregate {{ target.schema }}.stripe_lcm_agg (numeric) (
        sfunc = lcm, stype = numeric, initcond = '1'
    )
{%- endmacro %}
