with

source as (

    {{ stripe_raw_rows('coupons') }}

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

        {{ stripe_row_columns() }}

    from source

)

select * from final
