{#-
    Stripe timestamps are integer Unix epoch seconds. Convert to TIMESTAMP WITH TIME ZONE
    (an absolute instant; displayed in UTC under this project's profile). Null stays null.
-#}
{% macro epoch_to_timestamp(column) -%}
    to_timestamp(cast({{ column }} as bigint))
{%- endmacro %}

{#-
    "Now" for point-in-time metrics, as TIMESTAMP WITH TIME ZONE: the `as_of` var when given,
    else the MRR_AS_OF environment variable (ISO-8601 strings; a value without an explicit
    offset is read as UTC), else the current timestamp of the build.
    Read only when models run, not when dbt parses them: dbt re-parses every model whose parse
    read an environment variable that has since changed, and MRR_AS_OF can change every run.
-#}
{% macro as_of_timestamp() -%}
    {%- set as_of = (var('as_of', none) or env_var('MRR_AS_OF', '')) if execute else none -%}
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

{#- The calendar month (DATE, UTC) that contains "now" (see as_of_timestamp). -#}
{% macro current_month() -%}
    cast(date_trunc('month', {{ as_of_timestamp() }} at time zone 'UTC') as date)
{%- endmacro %}

{#- Whether a month (its first day, DATE) has ended by "now": the doc block is_complete_month. -#}
{% macro is_complete_month(month) -%}
    ({{ month }} < {{ current_month() }})
{%- endmacro %}

{#-
    Every calendar month from `first_month` to `last_month`, both included, to cross join:
    `spine.month_start` is the month's first instant (TIMESTAMP, UTC). Each bound is a DATE or
    TIMESTAMP expression at a month's start.
-#}
{% macro month_spine(first_month, last_month) -%}
    generate_series(
        cast({{ first_month }} as timestamp),
        cast({{ last_month }} as timestamp),
        interval '1 month'
    ) as spine(month_start)
{%- endmacro %}
