{#-
    numerator / denominator as a double, null when the denominator is 0: dividing integers
    truncates on some engines (PostgreSQL) and not on others (DuckDB).
-#}
{% macro ratio(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }}) / nullif({{ denominator }}, 0))
{%- endmacro %}
