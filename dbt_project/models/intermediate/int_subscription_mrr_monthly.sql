{#-
    One row per (month, subscription) for every subscription that counts toward MRR at the
    month's last instant (for the current month: at "now", see the `as_of` var), with its
    MRR at that instant as an exact fraction mrr_numerator / mrr_denominator minor units.

    Counted: in a period of int_subscription_counted_periods (past months), or status active
    or past_due now (current month). Its MRR: every licensed item version valid at that
    instant (int_subscription_item_versions), less forever-coupon discounts
    (int_subscription_discounts): a percentage off the total, an amount off per billing
    period spread over the months of that period; never below zero.
-#}

with

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

counted_periods as (

    select * from {{ ref('int_subscription_counted_periods') }}

),

item_versions as (

    select * from {{ ref('int_subscription_item_versions') }}

),

discounts as (

    select * from {{ ref('int_subscription_discounts') }}

),

as_of as (

    select {{ as_of_timestamp() }} as as_of_at

),

months as (

    select
        cast(month_start as date) as month,
        cast(month_start as date) = cast(date_trunc('month', as_of.as_of_at at time zone 'UTC') as date)
            as is_current_month,
        case
            when cast(month_start as date)
                = cast(date_trunc('month', as_of.as_of_at at time zone 'UTC') as date)
                then as_of.as_of_at
            else ((month_start + interval 1 month) at time zone 'UTC') - interval 1 second
        end as measured_at
    from as_of
    cross join {{ month_spine(
        "(select date_trunc('month', min(created_at) at time zone 'UTC') from subscriptions)",
        "date_trunc('month', as_of.as_of_at at time zone 'UTC')"
    ) }}

),

counted as (

    select
        months.month,
        months.measured_at,
        counted_periods.subscription_id
    from months
    inner join counted_periods
        on not months.is_current_month
        and counted_periods.counted_from_at <= months.measured_at
        and (
            counted_periods.counted_until_at is null
            or months.measured_at < counted_periods.counted_until_at
        )

    union all

    select
        months.month,
        months.measured_at,
        subscriptions.subscription_id
    from months
    inner join subscriptions
        on months.is_current_month
        and subscriptions.status in ('active', 'past_due')

),

items_at_month_end as (

    select
        counted.month,
        counted.measured_at,
        item_versions.*
    from counted
    inner join item_versions
        on counted.subscription_id = item_versions.subscription_id
        and item_versions.valid_from_at <= counted.measured_at
        and (item_versions.valid_to_at is null or counted.measured_at < item_versions.valid_to_at)
    where item_versions.is_mrr_eligible

),

gross as (

    select
        month,
        any_value(measured_at) as measured_at,
        subscription_id,
        {{ lcm_agg('monthly_amount_denominator') }} as mrr_denominator,
        -- periods per year and interval count of the subscription's billing period (Stripe
        -- bills every recurring item of a subscription on the same interval)
        any_value(monthly_amount_denominator) as billing_denominator,
        any_value(
            case recurring_interval
                when 'month' then 12 when 'year' then 1 when 'week' then 52 when 'day' then 365
            end
        ) as billing_periods_per_year,
        list(monthly_amount_numerator) as numerators,
        list(monthly_amount_denominator) as denominators
    from items_at_month_end
    group by
        month,
        subscription_id

),

gross_exact as (

    select
        month,
        measured_at,
        subscription_id,
        mrr_denominator,
        billing_denominator,
        billing_periods_per_year,
        list_sum(
            list_transform(
                list_zip(numerators, denominators),
                lambda pair: pair[1] * (mrr_denominator // pair[2])
            )
        ) as gross_numerator
    from gross

),

forever_discounts as (

    select
        gross_exact.month,
        gross_exact.subscription_id,
        -- percent_off has two decimals at most: basis points are exact
        coalesce(sum(cast(round(discounts.percent_off * 100) as bigint)), 0) as percent_off_bp,
        coalesce(sum(discounts.amount_off), 0) as amount_off
    from gross_exact
    inner join discounts
        on gross_exact.subscription_id = discounts.subscription_id
        and discounts.is_mrr_reducing
        and discounts.discount_start_at <= gross_exact.measured_at
        and (discounts.discount_end_at is null or gross_exact.measured_at < discounts.discount_end_at)
    group by
        gross_exact.month,
        gross_exact.subscription_id

),

discounted as (

    select
        gross_exact.month,
        gross_exact.subscription_id,
        gross_exact.gross_numerator,
        gross_exact.mrr_denominator,
        -- over mrr_denominator x 10000: percent in basis points; amount_off per billing
        -- period x periods per year / 12 per month
        greatest(
            gross_exact.gross_numerator * (10000 - coalesce(forever_discounts.percent_off_bp, 0))
            - cast(coalesce(forever_discounts.amount_off, 0) as hugeint)
                * gross_exact.billing_periods_per_year
                * (gross_exact.mrr_denominator // gross_exact.billing_denominator)
                * 10000,
            0
        ) as mrr_numerator_bp
    from gross_exact
    left join forever_discounts
        on gross_exact.month = forever_discounts.month
        and gross_exact.subscription_id = forever_discounts.subscription_id

),

final as (

    select
        discounted.month,
        discounted.subscription_id,
        subscriptions.customer_id,
        subscriptions.currency,
        cast(discounted.mrr_numerator_bp as hugeint) as mrr_numerator,
        cast(discounted.mrr_denominator * 10000 as bigint) as mrr_denominator,
        cast(discounted.mrr_numerator_bp as double) / (discounted.mrr_denominator * 10000)
            as mrr_minor
    from discounted
    inner join subscriptions
        on discounted.subscription_id = subscriptions.subscription_id

)

select * from final
