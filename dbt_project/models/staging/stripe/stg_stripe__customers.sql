with

source as (

    select * from {{ source('stripe', 'customers') }}
    qualify row_number() over (
        partition by id
        order by _extracted_at desc, _landing_load_id desc
    ) = 1

),

final as (

    select
        -- ids
        id as customer_id,

        -- strings
        email,
        name as customer_name,
        lower(currency) as currency,
        json_extract_string(address, '$.line1') as address_line1,
        json_extract_string(address, '$.line2') as address_line2,
        json_extract_string(address, '$.city') as address_city,
        json_extract_string(address, '$.state') as address_state,
        json_extract_string(address, '$.postal_code') as address_postal_code,
        json_extract_string(address, '$.country') as address_country,

        -- numerics (minor units)
        balance,
        {{ to_major_units('balance', 'currency') }} as balance_major,

        -- booleans
        delinquent as is_delinquent,
        livemode as is_livemode,

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
