-- Reconcile mrr_monthly with a plain DOUBLE recomputation from the item level:
-- mrr_minor (exact fraction arithmetic, rounded) must be within half a minor unit of the
-- DOUBLE sum of the item monthly amounts, and both must have the same (month, currency) rows.
with

subscription_mrr_monthly as (

    select * from {{ ref('int_subscription_mrr_monthly') }}

),

items as (

    select * from {{ ref('int_subscription_items_monthly_amount') }}

),

mrr_monthly as (

    select * from {{ ref('mrr_monthly') }}

),

recomputed as (

    select
        subscription_mrr_monthly.month,
        subscription_mrr_monthly.currency,
        sum(items.monthly_amount_minor) as mrr_minor_double
    from subscription_mrr_monthly
    inner join items
        on subscription_mrr_monthly.subscription_id = items.subscription_id
    group by
        subscription_mrr_monthly.month,
        subscription_mrr_monthly.currency
    having sum(items.monthly_amount_minor) > 0

),

final as (

    select
        coalesce(recomputed.month, mrr_monthly.month) as month,
        coalesce(recomputed.currency, mrr_monthly.currency) as currency,
        recomputed.mrr_minor_double,
        mrr_monthly.mrr_minor
    from recomputed
    full outer join mrr_monthly
        on recomputed.month = mrr_monthly.month
        and recomputed.currency = mrr_monthly.currency
    where mrr_monthly.mrr_minor is null
        or recomputed.mrr_minor_double is null
        or abs(recomputed.mrr_minor_double - mrr_monthly.mrr_minor) > 0.5 + 1e-6

)

select * from final
