{#-
    What every Stripe staging model shares.

    latest_stripe_rows(table): the raw table with one row per id, the most recently fetched
    (raw is merged on id already; this guards the views against a raw table loaded some other
    way), read with every declared column (stripe_source_with_every_column).

    stripe_row_columns(): the deletion flag and the load bookkeeping columns, renamed.
-#}

{% macro latest_stripe_rows(table) -%}
    select * from {{ stripe_source_with_every_column(table) }}
    qualify row_number() over (
        partition by id
        order by _extracted_at desc, _landing_load_id desc
    ) = 1
{%- endmacro %}

{#-
    stripe_source_with_every_column(table): the raw table with every column its source declares
    in _stripe__sources.yml. dlt creates a table only once Stripe returns an object for it and a
    column only once a value arrives, so a young account (no disputes yet) or a field Stripe has
    never filled would break the views; what is missing is read as typed nulls instead.
-#}
{% macro stripe_source_with_every_column(table) -%}
    {%- set relation = source('stripe', table) -%}
    {%- if not execute -%}
        {{ relation }}
    {%- else -%}
        {%- set declared = stripe_declared_columns(table).values() | list -%}
        {%- set existing = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        ) -%}
        {%- set present = [] if existing is none else
            adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list -%}
        {%- set missing = declared | rejectattr('name', 'in', present) | list -%}
        {%- if existing is none -%}
        (select
            {%- for column in declared %}
            cast(null as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
            {%- endfor %}
        where false)
        {%- elif missing -%}
        (select
            *,
            {%- for column in missing %}
            cast(null as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ relation }})
        {%- else -%}
        {{ relation }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro stripe_declared_columns(table) -%}
    {%- for node in graph.sources.values()
        if node.source_name == 'stripe' and node.name == table -%}
        {{ return(node.columns) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("no source stripe." ~ table) }}
{%- endmacro %}

{% macro stripe_row_columns() -%}
        -- deletion
        is_deleted,

        -- load metadata
        _extracted_at as extracted_at,
        _api_version as api_version,
        _landing_load_id as landing_load_id
{%- endmacro %}
