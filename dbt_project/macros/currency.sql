{#-
    Currency helpers. Stripe amounts are integers in the currency's smallest unit ("minor
    units"). For zero-decimal currencies the minor unit IS the major unit (100 JPY is sent
    as 100); for three-decimal currencies the minor unit is 1/1000 of the major unit.
    https://docs.stripe.com/currencies#zero-decimal
-#}

{% macro zero_decimal_currencies() -%}
    {{ return(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']) }}
{%- endmacro %}

{% macro three_decimal_currencies() -%}
    {{ return(['bhd', 'jod', 'kwd', 'omr', 'tnd']) }}
{%- endmacro %}

{#- Number of decimal places of the currency's major unit, as an integer expression. -#}
{% macro currency_decimals(currency) -%}
    case
        when lower({{ currency }}) in ('{{ zero_decimal_currencies() | join("', '") }}') then 0
        when lower({{ currency }}) in ('{{ three_decimal_currencies() | join("', '") }}') then 3
        else 2
    end
{%- endmacro %}

{#-
    Convert an integer amount in minor units to an exact DECIMAL(38, 3) in major units,
    e.g. 1999 usd -> 19.990, 1999 jpy -> 1999.000, 19990 kwd -> 19.990.
    Null amount or null currency gives null.
-#}
{% macro to_major_units(amount, currency) -%}
    {#- each branch is cast on its own: a CASE over DECIMALs of different scales would be
        bound to a common DECIMAL(38, 0) and silently truncate the cents -#}
    case
        when {{ currency }} is null then cast(null as decimal(38, 3))
        when lower({{ currency }}) in ('{{ zero_decimal_currencies() | join("', '") }}')
            then cast(cast({{ amount }} as decimal(38, 0)) as decimal(38, 3))
        when lower({{ currency }}) in ('{{ three_decimal_currencies() | join("', '") }}')
            then cast(cast({{ amount }} as decimal(38, 0)) * 0.001 as decimal(38, 3))
        else cast(cast({{ amount }} as decimal(38, 0)) * 0.01 as decimal(38, 3))
    end
{%- endmacro %}
