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
    ((2 * cast({{ numerator }} as hugeint) + cast({{ denominator }} as hugeint))
        // (2 * cast({{ denominator }} as hugeint)))
{%- endmacro %}
