{#-
    The periods in which a subscription counts toward MRR, i.e. its status is active or
    past_due (docs/DESIGN.md §2): one row per period, counted_until_at null while it lasts.

    Stripe keeps a subscription's current status only, and its events for 30 days, so past
    statuses are rebuilt from what it keeps for ever, the subscription and its invoices:
      * service starts with the first invoice that bills a paid period (not the $0 trial
        invoice): when that invoice is the creation invoice, once it is paid (until then the
        subscription is `incomplete`); when it is a renewal (a trial ending, a paused
        subscription resuming), as it is issued, paid or not (a failed payment makes it
        past_due, which counts);
      * an invoice still unpaid `stripe_unpaid_after_days` after it was issued (its last
        retry failed) makes the subscription `unpaid` until the invoice is paid, voided or
        marked uncollectible; set the var to null if your retry settings leave subscriptions
        past_due instead;
      * service ends at ended_at.
    Trialing, paused, incomplete and unpaid time is therefore never counted.
-#}

with

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

billing_invoices as (

    select
        invoices.subscription_id,
        invoices.billing_reason,
        invoices.created_at,
        invoices.paid_at,
        row_number() over (
            partition by invoices.subscription_id
            order by invoices.created_at, invoices.invoice_id
        ) as billing_number
    from invoices
    inner join subscriptions
        on invoices.subscription_id = subscriptions.subscription_id
    where
        invoices.billing_reason in ('subscription_create', 'subscription_cycle')
        and (
            subscriptions.trial_end_at is null
            or invoices.created_at >= subscriptions.trial_end_at
        )

),

service as (

    select
        subscriptions.subscription_id,
        case
            when billing_invoices.billing_reason = 'subscription_create'
                then billing_invoices.paid_at
            else billing_invoices.created_at
        end as service_started_at,
        subscriptions.ended_at
    from subscriptions
    inner join billing_invoices
        on subscriptions.subscription_id = billing_invoices.subscription_id
        and billing_invoices.billing_number = 1

),

unpaid_gaps as (

    {%- set unpaid_after_days = var('stripe_unpaid_after_days') %}
    {%- if unpaid_after_days is none %}
    select
        cast(null as {{ dbt.type_string() }}) as subscription_id,
        cast(null as {{ type_timestamp_tz() }}) as unpaid_from_at,
        cast(null as {{ type_timestamp_tz() }}) as unpaid_until_at
    where false
    {%- else %}
    select
        subscription_id,
        {{ dbt.dateadd('day', unpaid_after_days | int, 'created_at') }} as unpaid_from_at,
        coalesce(paid_at, voided_at, marked_uncollectible_at) as unpaid_until_at
    from invoices
    where
        subscription_id is not null
        and attempt_count > 0
        and (paid_at is null or paid_at > {{ dbt.dateadd('day', unpaid_after_days | int, 'created_at') }})
        -- an invoice voided before its retries ran out never made the subscription unpaid
        and (
            coalesce(voided_at, marked_uncollectible_at) is null
            or coalesce(voided_at, marked_uncollectible_at)
                > {{ dbt.dateadd('day', unpaid_after_days | int, 'created_at') }}
        )
    {%- endif %}

),

period_starts as (

    select
        subscription_id,
        service_started_at as counted_from_at
    from service
    where service_started_at is not null

    union

    select
        unpaid_gaps.subscription_id,
        unpaid_gaps.unpaid_until_at as counted_from_at
    from unpaid_gaps
    inner join service
        on unpaid_gaps.subscription_id = service.subscription_id
    where unpaid_gaps.unpaid_until_at > service.service_started_at

),

periods as (

    select
        period_starts.subscription_id,
        period_starts.counted_from_at,
        least(
            min(unpaid_gaps.unpaid_from_at),
            {{ dbt.any_value("service.ended_at") }}
        ) as counted_until_at
    from period_starts
    inner join service
        on period_starts.subscription_id = service.subscription_id
    left join unpaid_gaps
        on period_starts.subscription_id = unpaid_gaps.subscription_id
        and unpaid_gaps.unpaid_from_at >= period_starts.counted_from_at
    group by
        period_starts.subscription_id,
        period_starts.counted_from_at

),

final as (

    select
        subscription_id,
        counted_from_at,
        counted_until_at
    from periods
    where counted_until_at is null or counted_until_at > counted_from_at

)

select * from final
