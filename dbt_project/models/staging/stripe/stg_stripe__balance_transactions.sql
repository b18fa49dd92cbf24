with

source as (

    {{ stripe_raw_rows('balance_transactions') }}

),

final as (

    select
        -- ids
        id as balance_transaction_id,
        source as source_id,

        -- strings
        lower(currency) as currency,
        type as balance_transaction_type,
        reporting_category,
        status,
        balance_type,
        description,

        -- numerics (amounts in minor units)
        amount,
        fee,
        net,
        {{ to_major_units('amount', 'currency') }} as amount_major,
        {{ to_major_units('fee', 'currency') }} as fee_major,
        {{ to_major_units('net', 'currency') }} as net_major,
        exchange_rate,

        -- json
        fee_details,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,
        {{ epoch_to_timestamp('available_on') }} as available_on_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
