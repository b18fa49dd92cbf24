{{ config(**incremental_fact_config(unique_key='balance_transaction_id')) }}

{#-
    One row per balance transaction. customer_id is resolved through the source object:
    a charge directly, a refund or a dispute through its charge; null for payouts and any
    other source.
-#}

with

balance_transactions as (

    select * from {{ ref('stg_stripe__balance_transactions') }}

),

charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

refunds as (

    select * from {{ ref('stg_stripe__refunds') }}

),

disputes as (

    select * from {{ ref('stg_stripe__disputes') }}

),

payouts as (

    select * from {{ ref('stg_stripe__payouts') }}

),

refund_customers as (

    select
        refunds.refund_id,
        charges.charge_id,
        coalesce(charges.customer_id, refunds.customer_id) as customer_id,
        refunds.raw_load_id,
        charges.raw_load_id as charge_raw_load_id
    from refunds
    left join charges
        on refunds.charge_id = charges.charge_id

),

dispute_customers as (

    select
        disputes.dispute_id,
        charges.charge_id,
        charges.customer_id,
        disputes.raw_load_id,
        charges.raw_load_id as charge_raw_load_id
    from disputes
    left join charges
        on disputes.charge_id = charges.charge_id

),

final as (

    select
        balance_transactions.balance_transaction_id,
        balance_transactions.source_id,
        case
            when charges.charge_id is not null then 'charge'
            when refund_customers.refund_id is not null then 'refund'
            when dispute_customers.dispute_id is not null then 'dispute'
            when payouts.payout_id is not null then 'payout'
        end as source_type,
        coalesce(
            charges.customer_id,
            refund_customers.customer_id,
            dispute_customers.customer_id
        ) as customer_id,
        balance_transactions.currency,
        balance_transactions.balance_transaction_type,
        balance_transactions.reporting_category,
        balance_transactions.status,
        balance_transactions.balance_type,
        balance_transactions.description,
        balance_transactions.amount,
        balance_transactions.fee,
        balance_transactions.net,
        balance_transactions.amount_major,
        balance_transactions.fee_major,
        balance_transactions.net_major,
        balance_transactions.exchange_rate,
        balance_transactions.created_at,
        balance_transactions.available_on_at,
        {{ newest_load_id([
            'balance_transactions.raw_load_id',
            'charges.raw_load_id',
            'refund_customers.raw_load_id',
            'refund_customers.charge_raw_load_id',
            'dispute_customers.raw_load_id',
            'dispute_customers.charge_raw_load_id',
            'payouts.raw_load_id',
        ]) }} as raw_load_id
    from balance_transactions
    left join charges
        on balance_transactions.source_id = charges.charge_id
    left join refund_customers
        on balance_transactions.source_id = refund_customers.refund_id
    left join dispute_customers
        on balance_transactions.source_id = dispute_customers.dispute_id
    left join payouts
        on balance_transactions.source_id = payouts.payout_id
    {% if is_incremental() %}
    where {{ loaded_since_last_build('balance_transactions.raw_load_id') }}
        or {{ loaded_since_last_build('charges.raw_load_id', key='charges.charge_id') }}
        or {{ loaded_since_last_build(
            'refund_customers.raw_load_id', key='refund_customers.refund_id'
        ) }}
        or {{ loaded_since_last_build(
            'refund_customers.charge_raw_load_id', key='refund_customers.charge_id'
        ) }}
        or {{ loaded_since_last_build(
            'dispute_customers.raw_load_id', key='dispute_customers.dispute_id'
        ) }}
        or {{ loaded_since_last_build(
            'dispute_customers.charge_raw_load_id', key='dispute_customers.charge_id'
        ) }}
        or {{ loaded_since_last_build('payouts.raw_load_id', key='payouts.payout_id') }}
    {% endif %}

)

select * from final
