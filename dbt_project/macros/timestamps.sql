{#-
    Instants and UTC calendars. DuckDB and PostgreSQL keep instants as TIMESTAMP WITH TIME ZONE
    and name UTC explicitly (AT TIME ZONE 'UTC'); Spark SQL's TIMESTAMP is an instant shown and
    cut into days and months in the session's time zone, which the profile sets to UTC and the
    on-run-start hook checks (macros/rational.sql), so there an instant is its UTC wall clock.
    Arguments are parenthesized: on PostgreSQL AT TIME ZONE binds tighter than +, and
    `t + interval '1 month' at time zone 'UTC'` would convert the interval.
-#}

{#- The type of an instant. -#}
{% macro type_timestamp_tz() -%}
    {{ return(adapter.dispatch('type_timestamp_tz', 'stripe_revenue')()) }}
{%- endmacro %}

{% macro default__type_timestamp_tz() -%}
    timestamp with time zone
{%- endmacro %}

{% macro spark__type_timestamp_tz() -%}
    timestamp
{%- endmacro %}

{#-
    Stripe timestamps are integer Unix epoch seconds. Convert to an instant (displayed in UTC
    under this project's profiles). Null stays null.
-#}
{% macro epoch_to_timestamp(column) -%}
    {{ return(adapter.dispatch('epoch_to_timestamp', 'stripe_revenue')(column)) }}
{%- endmacro %}

{% macro default__epoch_to_timestamp(column) -%}
    to_timestamp(cast({{ column }} as bigint))
{%- endmacro %}

{% macro spark__epoch_to_timestamp(column) -%}
    timestamp_seconds(cast({{ column }} as bigint))
{%- endmacro %}

{#- The instant a TIMESTAMP without time zone names in UTC (a wall-clock time in UTC). -#}
{% macro utc_instant(timestamp) -%}
    {{ return(adapter.dispatch('utc_instant', 'stripe_revenue')(timestamp)) }}
{%- endmacro %}

{% macro default__utc_instant(timestamp) -%}
    (({{ timestamp }}) at time zone 'UTC')
{%- endmacro %}

{% macro spark__utc_instant(timestamp) -%}
    cast({{ timestamp }} as timestamp)
{%- endmacro %}

{#- The UTC calendar day (DATE) of an instant. -#}
{% macro utc_date(instant) -%}
    {{ return(adapter.dispatch('utc_date', 'stripe_revenue')(instant)) }}
{%- endmacro %}

{% macro default__utc_date(instant) -%}
    cast(({{ instant }}) at time zone 'UTC' as date)
{%- endmacro %}

{% macro spark__utc_date(instant) -%}
    cast({{ instant }} as date)
{%- endmacro %}

{#- The UTC calendar month (DATE, its first day) of an instant. -#}
{% macro utc_month(instant) -%}
    {{ return(adapter.dispatch('utc_month', 'stripe_revenue')(instant)) }}
{%- endmacro %}

{% macro default__utc_month(instant) -%}
    cast(date_trunc('month', ({{ instant }}) at time zone 'UTC') as date)
{%- endmacro %}

{% macro spark__utc_month(instant) -%}
    trunc(cast({{ instant }} as date), 'MM')
{%- endmacro %}

{#-
    "Now" for point-in-time metrics, as an instant: the `as_of` var when given,
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
            cast('{{ as_of_text }}' as {{ type_timestamp_tz() }})
        {%- else -%}
            {{ utc_instant("cast('" ~ as_of_text ~ "' as timestamp)") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The calendar month (DATE, UTC) that contains "now" (see as_of_timestamp). -#}
{% macro current_month() -%}
    {{ utc_month(as_of_timestamp()) }}
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
    {{ return(adapter.dispatch('month_spine', 'stripe_revenue')(first_month, last_month)) }}
{%- endmacro %}

{% macro default__month_spine(first_month, last_month) -%}
    generate_series(
        cast({{ first_month }} as timestamp),
        cast({{ last_month }} as timestamp),
        interval '1 month'
    ) as spine(month_start)
{%- endmacro %}

{% macro spark__month_spine(first_month, last_month) -%}
    lateral explode(sequence(
        cast({{ first_month }} as timestamp),
        cast({{ last_month }} as timestamp),
        interval 1 month
    )) as spine(month_start)
{%- endmacro %}
