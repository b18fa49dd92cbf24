with

source as (

    {{ latest_stripe_rows('invoice_line_items') }}

),

final as (

    select
        -- ids
        id as invoice_line_item_id,
        invoice as invoice_id,
        coalesce(
            subscription,
            json_extract_string(parent, '$.subscription_item_details.subscription'),
            json_extract_string(parent, '$.invoice_item_details.subscription')
        ) as subscription_id,
        json_extract_string(parent, '$.subscription_item_details.subscription_item')
            as subscription_item_id,
        json_extract_string(parent, '$.invoice_item_details.invoice_item') as invoice_item_id,
        json_extract_string(pricing, '$.price_details.price') as price_id,
        json_extract_string(pricing, '$.price_details.product') as product_id,

        -- strings
        description,
        lower(currency) as currency,
        json_extract_string(parent, '$.type') as parent_type,
        json_extract_string(pricing, '$.type') as pricing_type,

        -- numerics (amounts in minor units)
        amount,
        {{ to_major_units('amount', 'currency') }} as amount_major,
        cast(json_extract_string(pricing, '$.unit_amount_decimal') as decimal(38, 12))
            as unit_amount_decimal,
        cast(quantity as bigint) as quantity,

        -- booleans
        cast(
            coalesce(
                json_extract_string(parent, '$.subscription_item_details.proration'),
                json_extract_string(parent, '$.invoice_item_details.proration')
            ) as boolean
        ) as is_proration,

        -- timestamps
        {{ epoch_to_timestamp("json_extract_string(period, '$.start')") }} as period_start_at,
        {{ epoch_to_timestamp("json_extract_string(period, '$.end')") }} as period_end_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
