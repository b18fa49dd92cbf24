{#-
    Customer personal data in the marts, as the `customer_pii` var (or the CUSTOMER_PII
    environment variable) says: `keep` (default), `hash` (SHA-256 hex, so rows still join and
    count distinct without showing who) or `drop` (null).
-#}
{% macro personal_data(column) -%}
    {%- set mode = var('customer_pii', none) or (env_var('CUSTOMER_PII', '') | trim) or 'keep' -%}
    {%- if mode == 'keep' -%}
        {{ column }}
    {%- elif mode == 'hash' -%}
        {{ sha256_hex(column) }}
    {%- elif mode == 'drop' -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "customer_pii (CUSTOMER_PII) must be keep, hash or drop, not '" ~ mode ~ "'."
        ) }}
    {%- endif -%}
{%- endmacro %}

{#- The SHA-256 of a text, as 64 lowercase hex digits. -#}
{% macro sha256_hex(text) -%}
    {{ return(adapter.dispatch('sha256_hex', 'stripe_revenue')(text)) }}
{%- endmacro %}

{% macro duckdb__sha256_hex(text) -%}
    sha256({{ text }})
{%- endmacro %}

{% macro spark__sha256_hex(text) -%}
    sha2({{ text }}, 256)
{%- endmacro %}

{% macro postgres__sha256_hex(text) -%}
    encode(sha256(convert_to({{ text }}, 'UTF8')), 'hex')
{%- endmacro %}
