{#-
    Daily revenue per UTC day and currency from the Stripe balance (balance transactions),
    in MINOR units of each transaction's currency, never mixed. That is the currency the account
    settles in: an account settling in USD holds a EUR charge as a USD balance transaction,
    converted by Stripe at its `exchange_rate` (kept in fct_balance_transactions).

    Payouts (types payout, payout_cancel, payout_failure; reporting categories payout and
    payout_reversal) move money out of the balance and are not revenue: they are excluded
    from every column. Over the remaining transactions:
      gross_charges  = sum(amount), reporting_category charge
      refunds        = -sum(amount), reporting_category refund, refund_failure
      dispute_losses = -sum(amount), reporting_category dispute, dispute_reversal
      fees           = sum(fee) - sum(amount), reporting_category fee
      net            = sum(net)
    Fees are those Stripe takes from each transaction (`fee`: processing, dispute fees) and
    those it books as transactions of their own (type `stripe_fee`, reporting category `fee`:
    Billing, Radar and other product fees, whose negative `amount` is the fee).
    so that net = gross_charges - refunds - dispute_losses - fees whenever every
    transaction falls in one of these categories (see assert_revenue_daily_net_identity).
-#}

with

balance_transactions as (

    select * from {{ ref('stg_stripe__balance_transactions') }}

),

revenue_transactions as (

    select
        {{ utc_date('created_at') }} as day,
        currency,
        reporting_category,
        amount,
        fee,
        net
    from balance_transactions
    where balance_transaction_type not in ('payout', 'payout_cancel', 'payout_failure')
        and coalesce(reporting_category, '') not in ('payout', 'payout_reversal')

),

aggregated as (

    select
        day,
        currency,
        sum(amount) filter (where reporting_category = 'charge') as gross_charges,
        -sum(amount) filter (where reporting_category in ('refund', 'refund_failure')) as refunds,
        -sum(amount) filter (where reporting_category in ('dispute', 'dispute_reversal'))
            as dispute_losses,
        sum(fee) - coalesce(sum(amount) filter (where reporting_category = 'fee'), 0) as fees,
        sum(net) as net,
        count(*) as balance_transactions_count
    from revenue_transactions
    group by
        day,
        currency

),

final as (

    select
        day,
        currency,
        cast(coalesce(gross_charges, 0) as bigint) as gross_charges,
        cast(coalesce(refunds, 0) as bigint) as refunds,
        cast(coalesce(dispute_losses, 0) as bigint) as dispute_losses,
        cast(coalesce(fees, 0) as bigint) as fees,
        cast(coalesce(net, 0) as bigint) as net,
        cast(balance_transactions_count as bigint) as balance_transactions_count
    from aggregated

)

select * from final
