{#-
    A post-hook for the models built as tables: refresh the planner's statistics of the table
    just written, on an engine whose statistics lag behind its writes. PostgreSQL samples a new
    table only when autovacuum next passes, and until then plans the tests and models that read
    it as if it were empty (nested loops over thousands of rows). DuckDB keeps its statistics as
    it writes: nothing to do there.
-#}
{% macro refresh_statistics() -%}
    {{ return(adapter.dispatch('refresh_statistics', 'stripe_revenue')()) }}
{%- endmacro %}

{% macro default__refresh_statistics() -%}
{%- endmacro %}

{% macro postgres__refresh_statistics() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
