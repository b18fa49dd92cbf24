{#-
    The incremental facts (fct_charges, fct_refunds, fct_invoice_lines, fct_balance_transactions)
    rebuild, after a sync, only the rows one of whose inputs a raw load wrote since their last
    build: delete+insert on the fact's key, the same strategy on every engine. Each row keeps the newest raw load id of its
    inputs (`raw_load_id`: dlt's `_dlt_load_id`, which only grows, and whose ids compare as
    text in the order they were made); the table's largest is the watermark. An input row
    without a load id (raw tables loaded by something else than dlt) is rebuilt every time.
    `dbt build --full-refresh` rebuilds them whole; the Dagster asset passes it when a model's
    code changed since its last build (stripe_assets/defs/dbt/assets.py).
-#}

{#- SQL: whether an input row with this raw load id was written after the fact's last build;
    `key`, for an input reached by a left join: only when the join found one -#}
{% macro loaded_since_last_build(load_id, key=none) -%}
    ({% if key %}{{ key }} is not null and {% endif %}({{ load_id }} is null
        or {{ load_id }} > (select coalesce(max(raw_load_id), '') from {{ this }})))
{%- endmacro %}

{#- SQL: the newest of the inputs' raw load ids (an input missing from a left join counts as
    the oldest) -#}
{% macro newest_load_id(load_ids) -%}
    greatest({% for load_id in load_ids %}coalesce({{ load_id }}, ''){{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
