with

source as (

    select * from {{ source('stripe', 'refunds') }}
    qualify row_number() over (
        partition by id
        order by _extracted_at desc, _landing_load_id desc
    ) = 1

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
        json_extract_string(destination_details, '$.type') as destination_type,

        -- numerics (amounts in minor units)
        amount,
        {{ to_major_units('amount', 'currency') }} as amount_major,

        -- json
        metadata,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,

        -- deletion
        is_deleted,

        -- load metadata
        _extracted_at as extracted_at,
        _api_version as api_version,
        _landing_load_id as landing_load_id

    from source

)

select * from final
