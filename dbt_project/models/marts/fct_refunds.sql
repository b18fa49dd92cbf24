{{ config(**incremental_fact_config(unique_key='refund_id')) }}

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
        refunds.created_at,
        {{ newest_load_id(['refunds.raw_load_id', 'charges.raw_load_id']) }}
            as raw_load_id
    from refunds
    left join charges
        on refunds.charge_id = charges.charge_id
    {% if is_incremental() %}
    where {{ loaded_since_last_build('refunds.raw_load_id') }}
        or {{ loaded_since_last_build(
            'charges.raw_load_id', key='charges.charge_id'
        ) }}
    {% endif %}

)

select * from final
