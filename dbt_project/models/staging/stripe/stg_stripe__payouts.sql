with

source as (

    select * from {{ source('stripe', 'payouts') }}
    qualify row_number() over (
        partition by id
        order by _extracted_at desc, _landing_load_id desc
    ) = 1

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

        -- deletion
        is_deleted,

        -- load metadata
        _extracted_at as extracted_at,
        _api_version as api_version,
        _landing_load_id as landing_load_id

    from source

)

select * from final
