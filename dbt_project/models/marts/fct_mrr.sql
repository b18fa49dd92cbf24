{#-
    One row per subscription and month in which it has MRR, plus the month after its last
    one (where it churns, at 0): its MRR at the month's last instant and the movement since
    the previous month.

    Movements are classified the way finance reads them, by customer within a currency (each
    currency has a bridge of its own): every row of a customer's month carries the movement of
    the customer's MRR in that currency. A customer paying for the first time in a currency is
    new there, even while paying in another; one who paid before, stopped, and pays again is a
    reactivation; one who pays nothing now churned; otherwise the customer's total rose
    (expansion), fell (contraction) or held (unchanged), so a subscription cancelled and
    replaced within the month moves only by the difference.

    Amounts are exact: mrr_numerator / mrr_denominator minor units, with ONE denominator for
    every row, so any sum of numerators is exact; mrr_minor is the DOUBLE value for reading.
-#}

with

subscription_mrr_monthly as (

    select * from {{ ref('int_subscription_mrr_monthly') }}
    where mrr_numerator > 0

),

common_denominator as (

    select {{ lcm_agg('mrr_denominator') }} as mrr_denominator
    from (select distinct mrr_denominator from subscription_mrr_monthly) as denominators

),

paying as (

    select
        subscription_mrr_monthly.month,
        subscription_mrr_monthly.subscription_id,
        subscription_mrr_monthly.customer_id,
        subscription_mrr_monthly.currency,
        subscription_mrr_monthly.mrr_numerator
            * {{ integer_divide(
                'common_denominator.mrr_denominator', 'subscription_mrr_monthly.mrr_denominator'
            ) }}
            as mrr_numerator
    from subscription_mrr_monthly
    cross join common_denominator

),

with_previous as (

    select
        coalesce(this_month.month, cast({{ dbt.dateadd('month', 1, 'previous_month.month') }} as date))
            as month,
        coalesce(this_month.subscription_id, previous_month.subscription_id) as subscription_id,
        coalesce(this_month.customer_id, previous_month.customer_id) as customer_id,
        coalesce(this_month.currency, previous_month.currency) as currency,
        coalesce(this_month.mrr_numerator, 0) as mrr_numerator,
        coalesce(previous_month.mrr_numerator, 0) as previous_mrr_numerator
    from paying as this_month
    full outer join paying as previous_month
        on this_month.subscription_id = previous_month.subscription_id
        and this_month.month = cast({{ dbt.dateadd('month', 1, 'previous_month.month') }} as date)

),

in_range as (

    select * from with_previous
    where month <= {{ current_month() }}

),

customer_months as (

    select
        month,
        customer_id,
        currency,
        sum(mrr_numerator) as customer_mrr_numerator,
        sum(previous_mrr_numerator) as customer_previous_mrr_numerator
    from in_range
    group by
        month,
        customer_id,
        currency

),

customer_first_months as (

    select
        customer_id,
        currency,
        min(month) as first_paying_month
    from paying
    group by
        customer_id,
        currency

),

classified as (

    select
        in_range.*,
        case
            when customer_months.customer_previous_mrr_numerator = 0
                then case
                    when in_range.month = customer_first_months.first_paying_month then 'new'
                    else 'reactivation'
                end
            when customer_months.customer_mrr_numerator = 0 then 'churn'
            when customer_months.customer_mrr_numerator
                > customer_months.customer_previous_mrr_numerator then 'expansion'
            when customer_months.customer_mrr_numerator
                < customer_months.customer_previous_mrr_numerator then 'contraction'
            else 'unchanged'
        end as movement
    from in_range
    inner join customer_months
        on in_range.month = customer_months.month
        and in_range.customer_id = customer_months.customer_id
        and in_range.currency = customer_months.currency
    inner join customer_first_months
        on in_range.customer_id = customer_first_months.customer_id
        and in_range.currency = customer_first_months.currency

),

final as (

    select
        classified.month,
        classified.subscription_id,
        classified.customer_id,
        classified.currency,
        classified.movement,
        cast(classified.mrr_numerator as {{ type_double() }}) / common_denominator.mrr_denominator
            as mrr_minor,
        cast(classified.previous_mrr_numerator as {{ type_double() }}) / common_denominator.mrr_denominator
            as previous_mrr_minor,
        cast(classified.mrr_numerator as {{ type_exact_integer() }}) as mrr_numerator,
        cast(classified.previous_mrr_numerator as {{ type_exact_integer() }}) as previous_mrr_numerator,
        cast(common_denominator.mrr_denominator as bigint) as mrr_denominator
    from classified
    cross join common_denominator

)

select * from final
