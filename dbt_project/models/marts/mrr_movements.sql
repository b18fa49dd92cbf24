{#-
    The MRR bridge per month and currency, in minor units:
    ending = starting + new + expansion - contraction - churned + reactivation,
    and each month's ending is the next month's starting and equals mrr_monthly.mrr_minor.

    The exact movements (fct_mrr, one common denominator) are rounded without breaking the
    bridge: each figure is the difference between the rounded running totals around it
    (starting, + new, + expansion, + reactivation, - contraction, - churned = ending), so the
    identity holds exactly, every figure is within one minor unit of its exact value, and
    starting and ending are the exact totals rounded once, as in mrr_monthly.
-#}

with

fct_mrr as (

    select * from {{ ref('fct_mrr') }}

),

currency_months as (

    select
        currency,
        cast(month_start as date) as month
    from (
        select
            currency,
            min(month) as first_month
        from fct_mrr
        group by currency
    ) as currencies
    cross join {{ month_spine('currencies.first_month', current_month()) }}

),

exact_movements as (

    select
        month,
        currency,
        {{ dbt.any_value("mrr_denominator") }} as mrr_denominator,
        sum(previous_mrr_numerator) as starting,
        sum(mrr_numerator) filter (where movement = 'new') as new,
        sum(mrr_numerator - previous_mrr_numerator) filter (where movement = 'expansion')
            as expansion,
        sum(mrr_numerator) filter (where movement = 'reactivation') as reactivation,
        sum(previous_mrr_numerator - mrr_numerator) filter (where movement = 'contraction')
            as contraction,
        sum(previous_mrr_numerator) filter (where movement = 'churn') as churned,
        sum(mrr_numerator) as ending
    from fct_mrr
    group by
        month,
        currency

),

running_totals as (

    select
        currency_months.month,
        currency_months.currency,
        coalesce(exact_movements.mrr_denominator, 1) as denominator,
        coalesce(exact_movements.starting, 0) as after_starting,
        coalesce(exact_movements.starting, 0) + coalesce(exact_movements.new, 0) as after_new,
        coalesce(exact_movements.starting, 0) + coalesce(exact_movements.new, 0)
            + coalesce(exact_movements.expansion, 0) as after_expansion,
        coalesce(exact_movements.starting, 0) + coalesce(exact_movements.new, 0)
            + coalesce(exact_movements.expansion, 0)
            + coalesce(exact_movements.reactivation, 0) as after_reactivation,
        coalesce(exact_movements.ending, 0) + coalesce(exact_movements.churned, 0)
            as after_contraction,
        coalesce(exact_movements.ending, 0) as after_churn
    from currency_months
    left join exact_movements
        on currency_months.month = exact_movements.month
        and currency_months.currency = exact_movements.currency

),

rounded as (

    select
        month,
        currency,
        {{ round_fraction_half_up('after_starting', 'denominator') }} as r_starting,
        {{ round_fraction_half_up('after_new', 'denominator') }} as r_new,
        {{ round_fraction_half_up('after_expansion', 'denominator') }} as r_expansion,
        {{ round_fraction_half_up('after_reactivation', 'denominator') }} as r_reactivation,
        {{ round_fraction_half_up('after_contraction', 'denominator') }} as r_contraction,
        {{ round_fraction_half_up('after_churn', 'denominator') }} as r_churn
    from running_totals

),

final as (

    select
        month,
        currency,
        cast(r_starting as bigint) as starting_mrr_minor,
        cast(r_new - r_starting as bigint) as new_mrr_minor,
        cast(r_expansion - r_new as bigint) as expansion_mrr_minor,
        cast(r_reactivation - r_expansion as bigint) as reactivation_mrr_minor,
        cast(r_reactivation - r_contraction as bigint) as contraction_mrr_minor,
        cast(r_contraction - r_churn as bigint) as churned_mrr_minor,
        cast(r_churn as bigint) as ending_mrr_minor,
        {{ is_complete_month('month') }} as is_complete_month
    from rounded

)

select * from final
