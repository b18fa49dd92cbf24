with

source as (

    {{ stripe_raw_rows('subscription_items') }}

),

final as (

    select
        -- ids
        id as subscription_item_id,
        subscription as subscription_id,
        {{ json_text('price', '$.id') }} as price_id,
        {{ json_text('price', '$.product') }} as product_id,

        -- strings (from the embedded price object)
        lower({{ json_text('price', '$.currency') }}) as price_currency,
        {{ json_text('price', '$.type') }} as price_type,
        {{ json_text('price', '$.billing_scheme') }} as price_billing_scheme,
        {{ json_text('price', '$.recurring.interval') }} as price_recurring_interval,
        {{ json_text('price', '$.recurring.usage_type') }} as price_recurring_usage_type,

        -- numerics (amounts in minor units)
        cast(quantity as bigint) as quantity,
        cast({{ json_text('price', '$.unit_amount') }} as bigint) as price_unit_amount,
        {{ to_major_units(
            "cast(" ~ json_text('price', '$.unit_amount') ~ " as bigint)",
            json_text('price', '$.currency')
        ) }} as price_unit_amount_major,
        cast({{ json_text('price', '$.recurring.interval_count') }} as bigint)
            as price_recurring_interval_count,

        -- json
        discounts,
        metadata,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,
        {{ epoch_to_timestamp('current_period_start') }} as current_period_start_at,
        {{ epoch_to_timestamp('current_period_end') }} as current_period_end_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
