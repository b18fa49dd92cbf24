with

source as (

    select * from {{ source('stripe', 'events') }}
    qualify row_number() over (
        partition by id
        order by _extracted_at desc, _landing_load_id desc
    ) = 1

),

final as (

    select
        -- ids
        id as event_id,
        json_extract_string(data, '$.object.id') as object_id,
        json_extract_string(request, '$.id') as request_id,

        -- strings
        type as event_type,
        json_extract_string(data, '$.object.object') as object_type,
        -- the event's own API version, not the `_api_version` load column
        api_version as api_version_of_event,
        json_extract_string(request, '$.idempotency_key') as request_idempotency_key,

        -- numerics
        pending_webhooks,

        -- booleans
        coalesce(json_type(data, '$.previous_attributes') = 'OBJECT', false)
            as has_previous_attributes,

        -- json
        data,

        -- timestamps
        {{ epoch_to_timestamp('created') }} as created_at,

        -- deletion
        is_deleted,

        -- load metadata
        _extracted_at as extracted_at,
        _api_version as api_version,
        _landing_load_id as landing_load_id

    from source

)

select * from final
