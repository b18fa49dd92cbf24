with

source as (

    {{ stripe_raw_rows('disputes') }}

),

final as (

    select
        -- ids
        id as dispute_id,
        charge as charge_id,
        payment_intent as payment_intent_id,

        -- strings
        lower(currency) as currency,
        status,
        reason,
        {{ json_text('payment_method_details', '$.type') }} as payment_method_type,
        {{ json_text('payment_method_details', '$.card.network_reason_code') }}
            as card_network_reason_code,

        -- numerics (amounts in minor units)
        amount,
        {{ to_major_units('amount', 'currency') }} as amount_major,
        cast({{ json_text('evidence_details', '$.submission_count') }} as bigint)
            as evidence_submission_count,
        cast({{ json_length('balance_transactions') }} as bigint) as balance_transaction_count,

        -- booleans
        is_charge_refundable,
        cast({{ json_text('evidence_details', '$.has_evidence') }} as boolean) as has_evidence,
        cast({{ json_text('evidence_details', '$.past_due') }} as boolean) as is_evidence_past_due,

        -- json
        metadata,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,
        {{ epoch_to_timestamp(json_text('evidence_details', '$.due_by')) }}
            as evidence_due_by_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
