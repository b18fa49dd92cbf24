with

disputes as (

    select * from {{ ref('stg_stripe__disputes') }}

),

charges as (

    select * from {{ ref('stg_stripe__charges') }}

),

final as (

    select
        disputes.dispute_id,
        disputes.charge_id,
        disputes.payment_intent_id,
        charges.customer_id,
        disputes.currency,
        disputes.status,
        disputes.reason,
        disputes.payment_method_type,
        disputes.card_network_reason_code,
        disputes.amount,
        disputes.amount_major,
        disputes.evidence_submission_count,
        disputes.balance_transaction_count,
        disputes.is_charge_refundable,
        disputes.has_evidence,
        disputes.is_evidence_past_due,
        disputes.created_at,
        disputes.evidence_due_by_at
    from disputes
    left join charges
        on disputes.charge_id = charges.charge_id

)

select * from final
