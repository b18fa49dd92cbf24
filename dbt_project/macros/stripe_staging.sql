{#-
    What every Stripe staging model shares.

    latest_stripe_rows(table): the raw table with one row per id, the most recently fetched
    (raw is merged on id already; this guards the views against a raw table loaded some other
    way).

    stripe_row_columns(): the deletion flag and the load bookkeeping columns, renamed.
-#}

{% macro latest_stripe_rows(table) -%}
    select * from {{ source('stripe', table) }}
    qualify row_number() over (
        partition by id
        order by _extracted_at desc, _landing_load_id desc
    ) = 1
{%- endmacro %}

{% macro stripe_row_columns() -%}
        -- deletion
        is_deleted,

        -- load metadata
        _extracted_at as extracted_at,
        _api_version as api_version,
        _landing_load_id as landing_load_id
{%- endmacro %}
