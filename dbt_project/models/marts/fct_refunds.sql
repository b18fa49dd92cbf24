with

refunds as (

    select * from {{ ref('stg_stripe__refunds') }}

),

charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

final as (

    select
        refunds.refund_id,
        refunds.charge_id,
        refunds.payment_intent_id,
        refunds.balance_transaction_id,
        coalesce(charges.customer_id, refunds.customer_id) as customer_id,
        refunds.currency,
        refunds.status,
        refunds.reason,
        refunds.destination_type,
        refunds.amount,
        refunds.amount_major,
        refunds.created_at
    from refunds
    left join charges
        on refunds.charge_id = charges.charge_id

)

select * from final
