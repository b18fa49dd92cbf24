{{ config(**incremental_fact_config(unique_key='charge_id')) }}

with

charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

balance_transactions as (

    select * from {{ ref('stg_stripe__balance_transactions') }}

),

final as (

    select
        charges.charge_id,
        charges.customer_id,
        charges.payment_intent_id,
        charges.balance_transaction_id,
        charges.currency,
        charges.status,
        charges.description,
        charges.failure_code,
        charges.failure_message,
        charges.amount,
        charges.amount_captured,
        charges.amount_refunded,
        charges.amount_major,
        charges.amount_captured_major,
        charges.amount_refunded_major,
        balance_transactions.fee,
        balance_transactions.net,
        balance_transactions.fee_major,
        balance_transactions.net_major,
        charges.is_paid,
        charges.is_refunded,
        charges.is_disputed,
        charges.created_at,
        {{ newest_load_id(['charges.raw_load_id', 'balance_transactions.raw_load_id']) }}
            as raw_load_id
    from charges
    left join balance_transactions
        on charges.balance_transaction_id = balance_transactions.balance_transaction_id
    {% if is_incremental() %}
    where {{ loaded_since_last_build('charges.raw_load_id') }}
        or {{ loaded_since_last_build(
            'balance_transactions.raw_load_id', key='balance_transactions.balance_transaction_id'
        ) }}
    {% endif %}

)

select * from final
