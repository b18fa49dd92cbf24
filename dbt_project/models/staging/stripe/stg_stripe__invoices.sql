with

source as (

    {{ stripe_raw_rows('invoices') }}

),

final as (

    select
        -- ids
        id as invoice_id,
        customer as customer_id,
        {{ json_text('parent', '$.subscription_details.subscription') }} as subscription_id,

        -- strings
        number as invoice_number,
        lower(currency) as currency,
        status,
        billing_reason,
        collection_method,

        -- numerics (amounts in minor units)
        amount_due,
        amount_paid,
        amount_remaining,
        subtotal,
        total,
        cast(attempt_count as bigint) as attempt_count,
        {{ to_major_units('amount_due', 'currency') }} as amount_due_major,
        {{ to_major_units('amount_paid', 'currency') }} as amount_paid_major,
        {{ to_major_units('amount_remaining', 'currency') }} as amount_remaining_major,
        {{ to_major_units('subtotal', 'currency') }} as subtotal_major,
        {{ to_major_units('total', 'currency') }} as total_major,

        -- json
        -- the discounts applied, in order (`discount` objects with their coupons expanded)
        discounts,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,
        {{ epoch_to_timestamp('period_start') }} as period_start_at,
        {{ epoch_to_timestamp('period_end') }} as period_end_at,
        {{ epoch_to_timestamp(json_text('status_transitions', '$.finalized_at')) }}
            as finalized_at,
        {{ epoch_to_timestamp(json_text('status_transitions', '$.paid_at')) }}
            as paid_at,
        {{ epoch_to_timestamp(json_text('status_transitions', '$.voided_at')) }}
            as voided_at,
        {{ epoch_to_timestamp(json_text('status_transitions', '$.marked_uncollectible_at')) }}
            as marked_uncollectible_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
