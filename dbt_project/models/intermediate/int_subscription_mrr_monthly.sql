{#-
    One row per (month, subscription) for every subscription that counts toward MRR at the
    last instant of the month (for the current month: at "now", see the `as_of` var).

    Counting rule (this version, before history is rebuilt from invoices and events):
      * current month: the subscription's current status is active or past_due;
      * past months: counting_start < next_month_start
                     and (ended_at is null or ended_at >= next_month_start),
        with counting_start = coalesce(trial_end_at, started_at); a subscription that ended
        during or at the end of its trial (ended_at <= trial_end_at) never counts.
    Items belong to their subscription for its whole life (no item changes yet).

    The subscription's MRR is an exact fraction mrr_numerator / mrr_denominator in minor
    units (see int_subscription_items_monthly_amount); mrr_minor is its DOUBLE value.
-#}

with

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

subscription_items_monthly_amount as (

    select * from {{ ref('int_subscription_items_monthly_amount') }}

),

as_of as (

    select
        {{ as_of_timestamp() }} as as_of_at

),

month_bounds as (

    select
        cast(date_trunc('month', (min(subscriptions.started_at) at time zone 'UTC')) as date)
            as first_month,
        cast(date_trunc('month', (any_value(as_of.as_of_at) at time zone 'UTC')) as date)
            as current_month
    from subscriptions
    cross join as_of

),

months as (

    select
        cast(month_start as date) as month,
        (cast(month_start as timestamp) + interval 1 month) at time zone 'UTC'
            as next_month_start_at,
        cast(month_start as date) = month_bounds.current_month as is_current_month
    from month_bounds
    cross join generate_series(
        cast(month_bounds.first_month as timestamp),
        cast(month_bounds.current_month as timestamp),
        interval 1 month
    ) as spine(month_start)

),

subscription_denominators as (

    select
        subscription_id,
        {{ lcm_agg('monthly_amount_denominator') }} as mrr_denominator
    from subscription_items_monthly_amount
    group by subscription_id

),

subscription_mrr as (

    select
        subscription_items_monthly_amount.subscription_id,
        subscription_denominators.mrr_denominator,
        sum(
            subscription_items_monthly_amount.monthly_amount_numerator
            * (
                subscription_denominators.mrr_denominator
                // subscription_items_monthly_amount.monthly_amount_denominator
            )
        ) as mrr_numerator
    from subscription_items_monthly_amount
    inner join subscription_denominators
        on subscription_items_monthly_amount.subscription_id
            = subscription_denominators.subscription_id
    group by
        subscription_items_monthly_amount.subscription_id,
        subscription_denominators.mrr_denominator

),

subscription_windows as (

    select
        subscriptions.subscription_id,
        subscriptions.customer_id,
        subscriptions.currency,
        subscriptions.status,
        subscriptions.started_at,
        subscriptions.trial_end_at,
        subscriptions.ended_at,
        coalesce(subscriptions.trial_end_at, subscriptions.started_at) as counting_start_at,
        coalesce(
            subscriptions.ended_at is not null
            and subscriptions.trial_end_at is not null
            and subscriptions.ended_at <= subscriptions.trial_end_at,
            false
        ) as ended_in_trial,
        coalesce(subscription_mrr.mrr_numerator, 0) as mrr_numerator,
        coalesce(subscription_mrr.mrr_denominator, 1) as mrr_denominator
    from subscriptions
    left join subscription_mrr
        on subscriptions.subscription_id = subscription_mrr.subscription_id

),

counted as (

    select
        months.month,
        months.is_current_month,
        subscription_windows.*
    from months
    inner join subscription_windows
        on (
            months.is_current_month
            and subscription_windows.status in ('active', 'past_due')
        )
        or (
            not months.is_current_month
            and not subscription_windows.ended_in_trial
            and subscription_windows.counting_start_at < months.next_month_start_at
            and (
                subscription_windows.ended_at is null
                or subscription_windows.ended_at >= months.next_month_start_at
            )
        )

),

final as (

    select
        month,
        subscription_id,
        customer_id,
        currency,
        status,
        is_current_month,
        counting_start_at,
        ended_at,
        cast(mrr_numerator as hugeint) as mrr_numerator,
        cast(mrr_denominator as bigint) as mrr_denominator,
        cast(mrr_numerator as double) / mrr_denominator as mrr_minor
    from counted

)

select * from final
