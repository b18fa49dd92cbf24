{#-
    Reading the JSON raw keeps Stripe's nested objects and lists in (dlt's `json` columns).
    Each engine reads JSON its own way, so the models read it through these macros, dispatched
    per adapter (docs/warehouses.md lists the engines each is written for). A `path` is a
    JSONPath from the root: '$' itself, '$.period.start', '$[0].id'.

    json_text(json, path): the value at path as text (a string unquoted), null when absent.
    json_value(json, path): the value at path as JSON, null when absent.
    json_is_object(json, path='$') / json_is_string(json, path='$'): what the value at path is.
    json_length(array): how many elements a JSON array has.
    json_array_elements(array): a subquery to join laterally, one row per element of a JSON
    array: `element` (JSON) and `element_position` (from 1). A null or empty array gives none.
-#}

{% macro json_text(json, path) -%}
    {{ return(adapter.dispatch('json_text', 'stripe_revenue')(json, path)) }}
{%- endmacro %}

{% macro duckdb__json_text(json, path) -%}
    json_extract_string({{ json }}, '{{ path }}')
{%- endmacro %}

{% macro json_value(json, path) -%}
    {{ return(adapter.dispatch('json_value', 'stripe_revenue')(json, path)) }}
{%- endmacro %}

{% macro duckdb__json_value(json, path) -%}
    json_extract({{ json }}, '{{ path }}')
{%- endmacro %}

{% macro json_is_object(json, path='$') -%}
    {{ return(adapter.dispatch('json_is_object', 'stripe_revenue')(json, path)) }}
{%- endmacro %}

{% macro duckdb__json_is_object(json, path) -%}
    (json_type({{ json }}, '{{ path }}') = 'OBJECT')
{%- endmacro %}

{% macro json_is_string(json, path='$') -%}
    {{ return(adapter.dispatch('json_is_string', 'stripe_revenue')(json, path)) }}
{%- endmacro %}

{% macro duckdb__json_is_string(json, path) -%}
    (json_type({{ json }}, '{{ path }}') = 'VARCHAR')
{%- endmacro %}

{% macro json_length(array) -%}
    {{ return(adapter.dispatch('json_length', 'stripe_revenue')(array)) }}
{%- endmacro %}

{% macro duckdb__json_length(array) -%}
    json_array_length({{ array }})
{%- endmacro %}

{% macro json_array_elements(array) -%}
    {{ return(adapter.dispatch('json_array_elements', 'stripe_revenue')(array)) }}
{%- endmacro %}

{% macro duckdb__json_array_elements(array) -%}
    (
        select
            unnest(json_extract({{ array }}, '$[*]')) as element,
            generate_subscripts(json_extract({{ array }}, '$[*]'), 1) as element_position
    )
{%- endmacro %}

{#-
    PostgreSQL: raw's JSON is text (dlt writes what the landing zone's Parquet holds), read as
    jsonb; what the macros return as JSON is text again, so it mixes with raw's columns.
-#}
{% macro postgres_json_path(path) -%}
    {%- set keys = modules.re.findall('[^.\\[\\]$]+', path) -%}
    '{{ "{" ~ keys | join(",") ~ "}" }}'
{%- endmacro %}

{% macro postgres__json_text(json, path) -%}
    (cast({{ json }} as jsonb) #>> {{ postgres_json_path(path) }})
{%- endmacro %}

{% macro postgres__json_value(json, path) -%}
    cast(cast({{ json }} as jsonb) #> {{ postgres_json_path(path) }} as text)
{%- endmacro %}

{% macro postgres__json_is_object(json, path) -%}
    (jsonb_typeof(cast({{ json }} as jsonb) #> {{ postgres_json_path(path) }}) = 'object')
{%- endmacro %}

{% macro postgres__json_is_string(json, path) -%}
    (jsonb_typeof(cast({{ json }} as jsonb) #> {{ postgres_json_path(path) }}) = 'string')
{%- endmacro %}

{% macro postgres__json_length(array) -%}
    jsonb_array_length(cast({{ array }} as jsonb))
{%- endmacro %}

{% macro postgres__json_array_elements(array) -%}
    (
        select cast(element as text) as element, element_position
        from jsonb_array_elements(cast({{ array }} as jsonb)) with ordinality
            as elements (element, element_position)
    )
{%- endmacro %}

{#-
    Spark SQL: raw's JSON is text, as on PostgreSQL. get_json_object reads a value as text
    (a string unquoted); what must stay JSON, or be told apart by its JSON type, goes through
    Spark's VARIANT (parse_json), whose to_json turns it back into text.
-#}
{% macro spark__json_text(json, path) -%}
    get_json_object({{ json }}, '{{ path }}')
{%- endmacro %}

{% macro spark__json_value(json, path) -%}
    to_json(variant_get(parse_json({{ json }}), '{{ path }}'))
{%- endmacro %}

{% macro spark__json_is_object(json, path) -%}
    (schema_of_variant(variant_get(parse_json({{ json }}), '{{ path }}')) like 'OBJECT<%')
{%- endmacro %}

{% macro spark__json_is_string(json, path) -%}
    (schema_of_variant(variant_get(parse_json({{ json }}), '{{ path }}')) = 'STRING')
{%- endmacro %}

{% macro spark__json_length(array) -%}
    json_array_length({{ array }})
{%- endmacro %}

{% macro spark__json_array_elements(array) -%}
    (
        select to_json(value) as element, cast(pos + 1 as bigint) as element_position
        from variant_explode(parse_json({{ array }}))
    )
{%- endmacro %}
