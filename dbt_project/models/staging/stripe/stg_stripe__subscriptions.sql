with

source as (

    {{ stripe_raw_rows('subscriptions') }}

),

final as (

    select
        -- ids
        id as subscription_id,
        customer as customer_id,
        latest_invoice as latest_invoice_id,

        -- strings
        lower(currency) as currency,
        status,

        -- booleans
        cancel_at_period_end,

        -- json
        discounts,
        metadata,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,
        {{ epoch_to_timestamp('start_date') }} as started_at,
        {{ epoch_to_timestamp('trial_start') }} as trial_start_at,
        {{ epoch_to_timestamp('trial_end') }} as trial_end_at,
        {{ epoch_to_timestamp('billing_cycle_anchor') }} as billing_cycle_anchor_at,
        {{ epoch_to_timestamp('cancel_at') }} as cancel_at,
        {{ epoch_to_timestamp('canceled_at') }} as canceled_at,
        {{ epoch_to_timestamp('ended_at') }} as ended_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
