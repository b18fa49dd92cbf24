with

source as (

    select * from {{ source('stripe', 'products') }}
    qualify row_number() over (
        partition by id
        order by _extracted_at desc, _landing_load_id desc
    ) = 1

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

        -- deletion
        is_deleted,

        -- load metadata
        _extracted_at as extracted_at,
        _api_version as api_version,
        _landing_load_id as landing_load_id

    from source

)

select * from final
