{#-
    One row per (month, subscription) for every subscription that counts toward MRR at the
    month's last instant (for the current month: at "now", see the `as_of` var), with its
    MRR at that instant as an exact fraction mrr_numerator / mrr_denominator minor units.

    Counted: in a period of int_subscription_counted_periods (past months), or status active
    or past_due now (current month). Its MRR: every licensed item version valid at that
    instant (int_subscription_item_versions), less the forever-coupon discounts in effect then
    (int_subscription_discounts: the subscription's own, or its customer's when it has none),
    each in turn on what the ones before it left (stacked discounts compound, in the order
    of the subscription's `discounts`): a percentage off, or an amount off per billing period
    spread over the months of that period; never below zero.
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

discounts_in_effect as (

    select
        gross_exact.month,
        gross_exact.subscription_id,
        discounts.is_customer_discount,
        discounts.discount_position,
        discounts.is_mrr_reducing,
        -- percent_off has two decimals at most: basis points are exact
        cast(coalesce(round(discounts.percent_off * 100), 0) as hugeint) as percent_off_bp,
        -- amount_off per billing period x periods per year / 12, per month, over mrr_denominator
        cast(coalesce(discounts.amount_off, 0) as hugeint)
            * gross_exact.billing_periods_per_year
            * (gross_exact.mrr_denominator // gross_exact.billing_denominator) as amount_off_term
    from gross_exact
    inner join discounts
        on gross_exact.subscription_id = discounts.subscription_id
        and discounts.discount_start_at <= gross_exact.measured_at
        and (discounts.discount_end_at is null or gross_exact.measured_at < discounts.discount_end_at)
    -- the customer's discount only while the subscription has none of its own
    qualify not is_customer_discount
        or count(*) filter (where not is_customer_discount)
            over (partition by gross_exact.month, gross_exact.subscription_id) = 0

),

discount_stacks as (

    select
        month,
        subscription_id,
        list(
            {'percent_off_bp': percent_off_bp, 'amount_off_term': amount_off_term}
            order by discount_position
        ) as steps
    from discounts_in_effect
    where is_mrr_reducing
    group by
        month,
        subscription_id

),

discounted as (

    select
        gross_exact.month,
        gross_exact.subscription_id,
        gross_exact.mrr_denominator,
        -- each forever discount in turn on what the ones before it left, never below zero:
        -- `value` over mrr_denominator x `scale`, every step multiplying both by 10000
        list_reduce(
            coalesce(discount_stacks.steps, []),
            lambda left_over, step: {
                'value': greatest(
                    left_over.value * (10000 - step.percent_off_bp)
                    - step.amount_off_term * left_over.scale * 10000,
                    0
                ),
                'scale': left_over.scale * 10000,
                'percent_off_bp': 0,
                'amount_off_term': 0
            },
            {
                'value': cast(gross_exact.gross_numerator as hugeint),
                'scale': cast(1 as hugeint),
                'percent_off_bp': cast(0 as hugeint),
                'amount_off_term': cast(0 as hugeint)
            }
        ) as net
    from gross_exact
    left join discount_stacks
        on gross_exact.month = discount_stacks.month
        and gross_exact.subscription_id = discount_stacks.subscription_id

),

exact as (

    select
        month,
        subscription_id,
        -- over mrr_denominator x 10000 at least, like every month without a stack
        net.value * (greatest(net.scale, 10000) // net.scale) as mrr_numerator,
        mrr_denominator * greatest(net.scale, 10000) as mrr_denominator
    from discounted

),

final as (

    select
        exact.month,
        exact.subscription_id,
        subscriptions.customer_id,
        subscriptions.currency,
        cast(exact.mrr_numerator as hugeint) as mrr_numerator,
        cast(exact.mrr_denominator as bigint) as mrr_denominator,
        cast(exact.mrr_numerator as double) / exact.mrr_denominator as mrr_minor
    from exact
    inner join subscriptions
        on exact.subscription_id = subscriptions.subscription_id

)

select * from final
