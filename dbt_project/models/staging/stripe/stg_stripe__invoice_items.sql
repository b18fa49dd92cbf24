with

source as (

    {{ stripe_raw_rows('invoice_items') }}

),

final as (

    select
        -- ids
        id as invoice_item_id,
        customer as customer_id,
        invoice as invoice_id,
        {{ json_text('parent', '$.subscription_details.subscription') }} as subscription_id,
        {{ json_text('parent', '$.subscription_details.subscription_item') }}
            as subscription_item_id,
        {{ json_text('pricing', '$.price_details.price') }} as price_id,
        {{ json_text('pricing', '$.price_details.product') }} as product_id,

        -- strings
        description,
        lower(currency) as currency,
        {{ json_text('parent', '$.type') }} as parent_type,
        {{ json_text('pricing', '$.type') }} as pricing_type,

        -- numerics (amounts in minor units)
        amount,
        net_amount,
        {{ to_major_units('amount', 'currency') }} as amount_major,
        {{ to_major_units('net_amount', 'currency') }} as net_amount_major,
        cast({{ json_text('pricing', '$.unit_amount_decimal') }} as decimal(38, 12))
            as unit_amount_decimal,
        cast(quantity as bigint) as quantity,

        -- booleans
        proration as is_proration,
        discountable as is_discountable,

        -- json
        discounts,
        metadata,

        -- timestamps
        -- invoice items have no `created`: `date` is when the item was created
        {{ epoch_to_timestamp(adapter.quote('date')) }} as created_at,
        {{ epoch_to_timestamp(json_text('period', '$.start')) }} as period_start_at,
        {{ epoch_to_timestamp(json_text('period', '$.end')) }} as period_end_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
