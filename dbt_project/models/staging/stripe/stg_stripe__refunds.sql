with

source as (

    {{ stripe_raw_rows('refunds') }}

),

final as (

    select
        -- ids
        id as refund_id,
        charge as charge_id,
        payment_intent as payment_intent_id,
        balance_transaction as balance_transaction_id,
        customer as customer_id,

        -- strings
        lower(currency) as currency,
        status,
        reason,
        {{ json_text('destination_details', '$.type') }} as destination_type,

        -- numerics (amounts in minor units)
        amount,
        {{ to_major_units('amount', 'currency') }} as amount_major,

        -- json
        metadata,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
