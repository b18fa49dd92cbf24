with

source as (

    {{ stripe_raw_rows('invoice_line_items') }}

),

final as (

    select
        -- ids
        id as invoice_line_item_id,
        invoice as invoice_id,
        coalesce(
            subscription,
            {{ json_text('parent', '$.subscription_item_details.subscription') }},
            {{ json_text('parent', '$.invoice_item_details.subscription') }}
        ) as subscription_id,
        {{ json_text('parent', '$.subscription_item_details.subscription_item') }}
            as subscription_item_id,
        {{ json_text('parent', '$.invoice_item_details.invoice_item') }} as invoice_item_id,
        {{ json_text('pricing', '$.price_details.price') }} as price_id,
        {{ json_text('pricing', '$.price_details.product') }} as product_id,

        -- strings
        description,
        lower(currency) as currency,
        {{ json_text('parent', '$.type') }} as parent_type,
        {{ json_text('pricing', '$.type') }} as pricing_type,

        -- numerics (amounts in minor units)
        amount,
        {{ to_major_units('amount', 'currency') }} as amount_major,
        cast({{ json_text('pricing', '$.unit_amount_decimal') }} as decimal(38, 12))
            as unit_amount_decimal,
        cast(quantity as bigint) as quantity,

        -- booleans
        cast(
            coalesce(
                {{ json_text('parent', '$.subscription_item_details.proration') }},
                {{ json_text('parent', '$.invoice_item_details.proration') }}
            ) as boolean
        ) as is_proration,

        -- timestamps
        {{ epoch_to_timestamp(json_text('period', '$.start')) }} as period_start_at,
        {{ epoch_to_timestamp(json_text('period', '$.end')) }} as period_end_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
