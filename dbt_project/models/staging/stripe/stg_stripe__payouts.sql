with

source as (

    {{ stripe_raw_rows('payouts') }}

),

final as (

    select
        -- ids
        id as payout_id,
        balance_transaction as balance_transaction_id,
        destination as destination_id,

        -- strings
        lower(currency) as currency,
        status,
        method,
        type as payout_type,
        source_type,
        reconciliation_status,
        description,
        failure_code,

        -- numerics (amounts in minor units)
        amount,
        {{ to_major_units('amount', 'currency') }} as amount_major,

        -- booleans
        automatic as is_automatic,

        -- json
        metadata,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,
        {{ epoch_to_timestamp('arrival_date') }} as arrival_date_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
