with

source as (

    {{ stripe_raw_rows('customers') }}

),

final as (

    select
        -- ids
        id as customer_id,

        -- strings
        email,
        name as customer_name,
        lower(currency) as currency,
        {{ json_text('address', '$.line1') }} as address_line1,
        {{ json_text('address', '$.line2') }} as address_line2,
        {{ json_text('address', '$.city') }} as address_city,
        {{ json_text('address', '$.state') }} as address_state,
        {{ json_text('address', '$.postal_code') }} as address_postal_code,
        {{ json_text('address', '$.country') }} as address_country,

        -- numerics (minor units)
        balance,
        {{ to_major_units('balance', 'currency') }} as balance_major,

        -- booleans
        delinquent as is_delinquent,
        livemode as is_livemode,

        -- json
        metadata,
        -- the customer's own discount (a `discount` object, its coupon expanded), or null
        discount,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
