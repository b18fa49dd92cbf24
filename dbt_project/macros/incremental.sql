{#-
    The incremental facts (fct_invoices, fct_invoice_lines, fct_charges, fct_refunds,
    fct_balance_transactions) rebuild, after a sync, only the rows one of whose inputs a raw load
    wrote since their last build: delete+insert on the fact's key, on DuckDB and PostgreSQL alike (Spark: see
    incremental_fact_config). Each row keeps the newest raw load id of its inputs
    (`raw_load_id`: dlt's `_dlt_load_id`, which only grows, and whose ids compare as text in
    the order they were made); the table's largest is the watermark. An input row
    without a load id (raw tables loaded by something else than dlt) is rebuilt every time.
    `dbt build --full-refresh` rebuilds them whole; the Dagster asset passes it when a model's
    code changed since its last build (stripe_assets/defs/dbt/assets.py).
-#}

{#-
    incremental_fact_config(unique_key): the config of an incremental fact, for `config(**...)`.
    Spark SQL's plain Parquet tables have no key-based upsert: dbt-spark's `merge` needs Delta,
    Iceberg or Hudi, `append` would duplicate a changed row, and `insert_overwrite` replaces
    whole partitions (the whole table, unpartitioned), not the rows a sync changed. There the
    facts are tables rebuilt whole: that adds the writing of every row, not the reading, since
    the build reads the staging views whole either way.
-#}
{% macro incremental_fact_config(unique_key) -%}
    {{ return(adapter.dispatch('incremental_fact_config', 'stripe_revenue')(unique_key)) }}
{%- endmacro %}

{% macro default__incremental_fact_config(unique_key) -%}
    {{ return({
        'materialized': 'incremental',
        'unique_key': unique_key,
        'incremental_strategy': 'delete+insert',
        'on_schema_change': 'sync_all_columns',
    }) }}
{%- endmacro %}

{% macro spark__incremental_fact_config(unique_key) -%}
    {{ return({'materialized': 'table'}) }}
{%- endmacro %}

{#- SQL: whether an input row with this raw load id was written after the fact's last build;
    `key`, for an input reached by a left join: only when the join found one. The watermark's
    column is qualified: a table built before it had one (by an older version, and topped up
    without --full-refresh) must fail to bind, not bind raw_load_id to the input row's. -#}
{% macro loaded_since_last_build(load_id, key=none) -%}
    ({% if key %}{{ key }} is not null and {% endif %}({{ load_id }} is null
        or {{ load_id }} > (select coalesce(max(last_build.raw_load_id), '') from {{ this }} as last_build)))
{%- endmacro %}

{#- SQL: the newest of the inputs' raw load ids (an input missing from a left join counts as
    the oldest) -#}
{% macro newest_load_id(load_ids) -%}
    greatest({% for load_id in load_ids %}coalesce({{ load_id }}, ''){{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
