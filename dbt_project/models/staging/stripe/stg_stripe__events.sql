with

source as (

    {{ stripe_raw_rows('events') }}

),

final as (

    select
        -- ids
        id as event_id,
        {{ json_text('data', '$.object.id') }} as object_id,
        {{ json_text('request', '$.id') }} as request_id,

        -- strings
        type as event_type,
        {{ json_text('data', '$.object.object') }} as object_type,
        -- the event's own API version, not the `_api_version` load column
        api_version as api_version_of_event,
        {{ json_text('request', '$.idempotency_key') }} as request_idempotency_key,

        -- numerics
        pending_webhooks,

        -- booleans
        coalesce({{ json_is_object('data', '$.previous_attributes') }}, false)
            as has_previous_attributes,

        -- json
        data,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,

        {{ stripe_row_columns() }}

    from source

)

select * from final
