{#-
    Fails for every combination of `combination_of_columns` that occurs more than once
    (a self-written stand-in for dbt_utils.unique_combination_of_columns).

    usage (model level):
      data_tests:
        - unique_combination_of_columns:
            arguments:
              combination_of_columns: [month, currency]
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

validation_errors as (

    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as n_records
    from {{ model }}
    group by
        {{ combination_of_columns | join(',\n        ') }}
    having count(*) > 1

)

select * from validation_errors

{% endtest %}
