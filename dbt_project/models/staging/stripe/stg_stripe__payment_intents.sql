with

source as (

    {{ stripe_raw_rows('payment_intents') }}

),

final as (

    select
        -- ids
        id as payment_intent_id,
        customer as customer_id,
        latest_charge as latest_charge_id,

        -- strings
        lower(currency) as currency,
        status,
        description,
        capture_method,
        confirmation_method,
        {{ json_text('last_payment_error', '$.code') }} as last_payment_error_code,
        {{ json_text('last_payment_error', '$.type') }} as last_payment_error_type,

        -- numerics (amounts in minor units)
        amount,
        amount_capturable,
        amount_received,
        {{ to_major_units('amount', 'currency') }} as amount_major,
        {{ to_major_units('amount_capturable', 'currency') }} as amount_capturable_major,
        {{ to_major_units('amount_received', 'currency') }} as amount_received_major,

        -- json
        payment_method_types,
        metadata,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,
        {{ epoch_to_timestamp('canceled_at') }} as canceled_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
