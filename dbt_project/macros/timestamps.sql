{#-
    Stripe timestamps are integer Unix epoch seconds. Convert to TIMESTAMP WITH TIME ZONE
    (an absolute instant; displayed in UTC under this project's profile). Null stays null.
-#}
{% macro epoch_to_timestamp(column) -%}
    to_timestamp(cast({{ column }} as bigint))
{%- endmacro %}

{#-
    "Now" for point-in-time metrics, as TIMESTAMP WITH TIME ZONE: the `as_of` var when given
    (ISO-8601 string; a value without an explicit offset is read as UTC), else the current
    timestamp of the build.
-#}
{% macro as_of_timestamp() -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of is none or (as_of | string | trim) == '' -%}
        current_timestamp
    {%- else -%}
        {%- set as_of_text = as_of | string | trim | replace("'", "''") -%}
        {%- if modules.re.search('[0-9]:[0-9][0-9](:[0-9][0-9]([.][0-9]+)?)? *(z|Z|[+-][0-9][0-9](:?[0-9][0-9])?)$', as_of_text) -%}
            cast('{{ as_of_text }}' as timestamp with time zone)
        {%- else -%}
            (cast('{{ as_of_text }}' as timestamp) at time zone 'UTC')
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
