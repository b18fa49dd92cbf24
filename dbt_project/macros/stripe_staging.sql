{#-
    What every Stripe staging model shares.

    stripe_raw_rows(table): the raw table read with every declared column
    (stripe_source_with_every_column), as it is: one row per id, the latest state the raw load
    merged. Nothing is deduplicated here: a table holding an id twice (loaded some other way)
    fails raw's blocking `id_present_and_unique` check, which keeps the models from running, and
    every staging model's `unique` test, rather than having one of its rows picked silently.
    Ranking every raw row by id in each view, as the views once did, cost every query that read
    one: about a fifth of a build's CPU on DuckDB at 10,000 customers.

    stripe_row_columns(): the deletion flag and the load bookkeeping columns, renamed.
-#}

{% macro stripe_raw_rows(table) -%}
    select * from {{ stripe_source_with_every_column(table) }} as raw_rows
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
        {%- if existing is not none and missing -%}
            {{ stripe_require_always_sent_columns(table, existing, missing | map(attribute='name')) }}
        {%- endif -%}
        {%- if existing is none -%}
        (select
            {%- for column in declared %}
            cast(null as {{ source_column_type(column.data_type) }}) as {{ column.name }}{{ "," if not loop.last }}
            {%- endfor %}
        where false)
        {%- elif missing -%}
        (select
            *,
            {%- for column in missing %}
            cast(null as {{ source_column_type(column.data_type) }}) as {{ column.name }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ relation }})
        {%- else -%}
        {{ relation }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    stripe_require_always_sent_columns(table, relation, missing): stops the model when the raw
    table has live rows but lacks a column Stripe sends on every such object (the table's
    `always_sent`). Reading it as null, like a field that is merely unfilled, would build the
    model empty or wrong without a word: those rows hold data of another shape.
-#}
{% macro stripe_require_always_sent_columns(table, relation, missing) -%}
    {%- set source_node = stripe_source_node(table) -%}
    {%- set always_sent = source_node.config.meta.get('always_sent', []) -%}
    {%- set lacking = missing | select('in', always_sent) | list -%}
    {%- if lacking -%}
        {%- set present = adapter.get_columns_in_relation(relation)
            | map(attribute='name') | map('lower') | list -%}
        {%- set live = run_query(
            "select count(*) from " ~ relation
            ~ (" where not coalesce(is_deleted, false)" if 'is_deleted' in present else "")
        ).columns[0].values()[0] -%}
        {%- if live > 0 -%}
            {%- set more = lacking | length - 3 -%}
            {%- set named = "`" ~ (lacking[:3] | join("`, `")) ~ "`"
                ~ ((" and " ~ more ~ " more") if more > 0 else "") -%}
            {{ exceptions.raise_compiler_error(
                this.identifier ~ " is not built: raw " ~ relation.schema ~ "." ~ table ~ " has "
                ~ live ~ " live rows but no " ~ named ~ ", which Stripe sends on every one at API"
                ~ " version " ~ source_node.source_meta.api_version ~ "; reload raw from this"
                ~ " pipeline's landing zone (make rebuild-raw) rather than from data in another"
                ~ " shape."
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- A data_type of _stripe__sources.yml (DuckDB's and PostgreSQL's names) in the engine's SQL. -#}
{% macro source_column_type(data_type) -%}
    {{ return(adapter.dispatch('source_column_type', 'stripe_revenue')(data_type)) }}
{%- endmacro %}

{% macro default__source_column_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{% macro spark__source_column_type(data_type) -%}
    {{ return({'varchar': dbt.type_string(), 'timestamptz': type_timestamp_tz()}.get(data_type, data_type)) }}
{%- endmacro %}

{% macro stripe_declared_columns(table) -%}
    {{ return(stripe_source_node(table).columns) }}
{%- endmacro %}

{% macro stripe_source_node(table) -%}
    {%- for node in graph.sources.values()
        if node.source_name == 'stripe' and node.name == table -%}
        {{ return(node) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("no source stripe." ~ table) }}
{%- endmacro %}

{% macro stripe_row_columns() -%}
        -- deletion
        is_deleted,

        -- load metadata
        _extracted_at as extracted_at,
        _api_version as api_version,
        _landing_load_id as landing_load_id,
        _dlt_load_id as raw_load_id
{%- endmacro %}
