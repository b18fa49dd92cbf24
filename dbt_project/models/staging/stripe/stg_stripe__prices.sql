with

source as (

    {{ stripe_raw_rows('prices') }}

),

final as (

    select
        -- ids
        id as price_id,
        product as product_id,
        {{ json_text('recurring', '$.meter') }} as recurring_meter_id,

        -- strings
        nickname as price_nickname,
        lookup_key,
        lower(currency) as currency,
        type as price_type,
        billing_scheme,
        tiers_mode,
        {{ json_text('transform_quantity', '$.round') }} as transform_quantity_round,
        tax_behavior,
        {{ json_text('recurring', '$.interval') }} as recurring_interval,
        {{ json_text('recurring', '$.usage_type') }} as recurring_usage_type,

        -- numerics (amounts in minor units)
        unit_amount,
        {{ to_major_units('unit_amount', 'currency') }} as unit_amount_major,
        cast({{ json_text('transform_quantity', '$.divide_by') }} as bigint)
            as transform_quantity_divide_by,

        -- json
        tiers,
        cast({{ json_text('recurring', '$.interval_count') }} as bigint) as recurring_interval_count,
        cast({{ json_text('recurring', '$.trial_period_days') }} as bigint) as recurring_trial_period_days,

        -- booleans
        active as is_active,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
