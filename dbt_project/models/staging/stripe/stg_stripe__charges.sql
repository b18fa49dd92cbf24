with

source as (

    {{ stripe_raw_rows('charges') }}

),

final as (

    select
        -- ids
        id as charge_id,
        customer as customer_id,
        payment_intent as payment_intent_id,
        balance_transaction as balance_transaction_id,

        -- strings
        lower(currency) as currency,
        status,
        description,
        failure_code,
        failure_message,

        -- numerics (amounts in minor units)
        amount,
        amount_captured,
        amount_refunded,
        {{ to_major_units('amount', 'currency') }} as amount_major,
        {{ to_major_units('amount_captured', 'currency') }} as amount_captured_major,
        {{ to_major_units('amount_refunded', 'currency') }} as amount_refunded_major,

        -- booleans
        paid as is_paid,
        refunded as is_refunded,
        disputed as is_disputed,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
