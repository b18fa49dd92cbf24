with

source as (

    {{ stripe_raw_rows('credit_notes') }}

),

final as (

    select
        -- ids
        id as credit_note_id,
        invoice as invoice_id,
        customer as customer_id,
        {{ json_text('refunds', '$[0].refund') }} as refund_id,

        -- strings
        number as credit_note_number,
        lower(currency) as currency,
        status,
        type as credit_note_type,
        reason,
        memo,

        -- numerics (amounts in minor units)
        amount,
        subtotal,
        subtotal_excluding_tax,
        total,
        total_excluding_tax,
        discount_amount,
        amount_shipping,
        pre_payment_amount,
        post_payment_amount,
        {{ to_major_units('amount', 'currency') }} as amount_major,
        {{ to_major_units('subtotal', 'currency') }} as subtotal_major,
        {{ to_major_units('subtotal_excluding_tax', 'currency') }} as subtotal_excluding_tax_major,
        {{ to_major_units('total', 'currency') }} as total_major,
        {{ to_major_units('total_excluding_tax', 'currency') }} as total_excluding_tax_major,
        {{ to_major_units('discount_amount', 'currency') }} as discount_amount_major,
        {{ to_major_units('amount_shipping', 'currency') }} as amount_shipping_major,
        {{ to_major_units('pre_payment_amount', 'currency') }} as pre_payment_amount_major,
        {{ to_major_units('post_payment_amount', 'currency') }} as post_payment_amount_major,
        cast({{ json_length('refunds') }} as bigint) as refund_count,

        -- json
        refunds,
        metadata,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,
        {{ epoch_to_timestamp('effective_at') }} as effective_at,
        {{ epoch_to_timestamp('voided_at') }} as voided_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
