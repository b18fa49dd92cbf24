with

source as (

    {{ stripe_raw_rows('products') }}

),

final as (

    select
        -- ids
        id as product_id,
        default_price as default_price_id,

        -- strings
        name as product_name,
        description,
        type as product_type,

        -- booleans
        active as is_active,

        -- json
        metadata,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,
        {{ epoch_to_timestamp('updated') }} as updated_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
