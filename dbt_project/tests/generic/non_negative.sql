{#-
    Fails for every row where the column is negative. Nulls pass (combine with not_null).

    usage (column level):
      data_tests:
        - non_negative
-#}
{% test non_negative(model, column_name) %}

with

validation_errors as (

    select
        {{ column_name }}
    from {{ model }}
    where {{ column_name }} < 0

)

select * from validation_errors

{% endtest %}
