{#-
    Monthly recurring revenue per calendar month (UTC) and currency, taken at the last
    instant of each month (for the current month: at "now", see the `as_of` var).

    mrr_minor = round(sum of the exact normalized monthly amounts of every counted
    subscription item), halves away from zero, in minor units. The sum is computed exactly
    as a fraction over the least common multiple of the item denominators.
-#}

with

subscription_mrr_monthly as (

    select * from {{ ref('int_subscription_mrr_monthly') }}

),

positive_mrr as (

    select * from subscription_mrr_monthly
    where mrr_numerator > 0

),

month_currency_denominators as (

    select
        month,
        currency,
        {{ lcm_agg('mrr_denominator') }} as mrr_denominator
    from positive_mrr
    group by
        month,
        currency

),

aggregated as (

    select
        positive_mrr.month,
        positive_mrr.currency,
        month_currency_denominators.mrr_denominator,
        sum(
            positive_mrr.mrr_numerator
            * {{ integer_divide(
                'month_currency_denominators.mrr_denominator', 'positive_mrr.mrr_denominator'
            ) }}
        ) as mrr_numerator,
        count(distinct positive_mrr.subscription_id) as active_subscriptions,
        count(distinct positive_mrr.customer_id) as active_customers
    from positive_mrr
    inner join month_currency_denominators
        on positive_mrr.month = month_currency_denominators.month
        and positive_mrr.currency = month_currency_denominators.currency
    group by
        positive_mrr.month,
        positive_mrr.currency,
        month_currency_denominators.mrr_denominator

),

rounded as (

    select
        month,
        currency,
        cast(
            {{ round_fraction_half_up('mrr_numerator', 'mrr_denominator') }} as bigint
        ) as mrr_minor,
        active_subscriptions,
        active_customers
    from aggregated

),

final as (

    select
        month,
        currency,
        mrr_minor,
        {{ to_major_units('mrr_minor', 'currency') }} as mrr,
        cast({{ to_major_units('mrr_minor', 'currency') }} * 12 as decimal(38, 3)) as arr,
        cast(active_subscriptions as bigint) as active_subscriptions,
        cast(active_customers as bigint) as active_customers,
        {{ is_complete_month('month') }} as is_complete_month
    from rounded
    where active_subscriptions > 0

)

select * from final
