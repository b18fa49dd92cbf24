with

source as (

    select * from {{ source('stripe', 'coupons') }}
    qualify row_number() over (
        partition by id
        order by _extracted_at desc, _landing_load_id desc
    ) = 1

),

final as (

    select
        -- ids
        id as coupon_id,

        -- strings
        name as coupon_name,
        lower(currency) as currency,
        duration,

        -- numerics (amounts in minor units)
        amount_off,
        {{ to_major_units('amount_off', 'currency') }} as amount_off_major,
        percent_off,
        duration_in_months,
        max_redemptions,
        times_redeemed,

        -- booleans
        valid as is_valid,

        -- json
        metadata,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,
        {{ epoch_to_timestamp('redeem_by') }} as redeem_by_at,

        -- deletion
        is_deleted,

        -- load metadata
        _extracted_at as extracted_at,
        _api_version as api_version,
        _landing_load_id as landing_load_id

    from source

)

select * from final
