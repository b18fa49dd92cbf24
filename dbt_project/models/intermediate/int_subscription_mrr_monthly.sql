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

with recursive

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
        cast(month_start as date) = {{ utc_month('as_of.as_of_at') }} as is_current_month,
        case
            when cast(month_start as date) = {{ utc_month('as_of.as_of_at') }}
                then as_of.as_of_at
            else {{ dbt.dateadd('second', -1, utc_instant(dbt.dateadd('month', 1, 'month_start'))) }}
        end as measured_at
    from as_of
    cross join {{ month_spine(
        "(select min(" ~ utc_month('created_at') ~ ") from subscriptions)",
        utc_month('as_of.as_of_at')
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
        {{ dbt.any_value("measured_at") }} as measured_at,
        subscription_id,
        {{ lcm_agg('monthly_amount_denominator') }} as mrr_denominator,
        -- periods per year and interval count of the subscription's billing period (Stripe
        -- bills every recurring item of a subscription on the same interval)
        {{ dbt.any_value("monthly_amount_denominator") }} as billing_denominator,
        {{ dbt.any_value(
            "case recurring_interval when 'month' then 12 when 'year' then 1"
            ~ " when 'week' then 52 when 'day' then 365 end"
        ) }} as billing_periods_per_year
    from items_at_month_end
    group by
        month,
        subscription_id

),

gross_exact as (

    -- every item's monthly amount over the subscription's common denominator, summed
    select
        gross.month,
        gross.measured_at,
        gross.subscription_id,
        gross.mrr_denominator,
        gross.billing_denominator,
        gross.billing_periods_per_year,
        sum(
            items_at_month_end.monthly_amount_numerator
            * {{ integer_divide('gross.mrr_denominator', 'items_at_month_end.monthly_amount_denominator') }}
        ) as gross_numerator
    from gross
    inner join items_at_month_end
        on gross.month = items_at_month_end.month
        and gross.subscription_id = items_at_month_end.subscription_id
    group by
        gross.month,
        gross.measured_at,
        gross.subscription_id,
        gross.mrr_denominator,
        gross.billing_denominator,
        gross.billing_periods_per_year

),

discounts_in_effect as (

    select *
    from (
        select
            gross_exact.month,
            gross_exact.subscription_id,
            discounts.is_customer_discount,
            discounts.discount_position,
            discounts.is_mrr_reducing,
            -- percent_off has two decimals at most: basis points are exact
            cast(coalesce(round(discounts.percent_off * 100), 0) as {{ type_exact_integer() }}) as percent_off_bp,
            -- amount_off per billing period x periods per year / 12, per month, over mrr_denominator
            cast(coalesce(discounts.amount_off, 0) as {{ type_exact_integer() }})
                * gross_exact.billing_periods_per_year
                * {{ integer_divide('gross_exact.mrr_denominator', 'gross_exact.billing_denominator') }}
                    as amount_off_term,
            count(case when not discounts.is_customer_discount then 1 end) over (
                partition by gross_exact.month, gross_exact.subscription_id
            ) as own_discounts
        from gross_exact
        inner join discounts
            on gross_exact.subscription_id = discounts.subscription_id
            and discounts.discount_start_at <= gross_exact.measured_at
            and (discounts.discount_end_at is null or gross_exact.measured_at < discounts.discount_end_at)
    ) as in_effect
    -- the customer's discount only while the subscription has none of its own
    where not is_customer_discount or own_discounts = 0

),

stack_steps as (

    select
        month,
        subscription_id,
        percent_off_bp,
        amount_off_term,
        cast(
            row_number() over (partition by month, subscription_id order by discount_position)
            as bigint
        ) as step
    from discounts_in_effect
    where is_mrr_reducing

),

compounding as (

    -- each forever discount in turn on what the ones before it left, never below zero:
    -- `value` over mrr_denominator x `scale`, every step multiplying both by 10000
    select
        month,
        subscription_id,
        cast(0 as bigint) as step,
        cast(gross_numerator as {{ type_exact_integer() }}) as value,
        cast(1 as {{ type_exact_integer() }}) as scale
    from gross_exact

    union all

    select
        compounding.month,
        compounding.subscription_id,
        stack_steps.step,
        cast(
            {{ clamp_at_zero(
                'compounding.value * (10000 - stack_steps.percent_off_bp)'
                ~ ' - stack_steps.amount_off_term * compounding.scale * 10000'
            ) }} as {{ type_exact_integer() }}
        ),
        cast(compounding.scale * 10000 as {{ type_exact_integer() }})
    from compounding
    inner join stack_steps
        on compounding.month = stack_steps.month
        and compounding.subscription_id = stack_steps.subscription_id
        and stack_steps.step = compounding.step + 1

),

discounted as (

    select
        gross_exact.month,
        gross_exact.subscription_id,
        gross_exact.mrr_denominator,
        net.value,
        net.scale
    from gross_exact
    inner join (
        select
            compounding.*,
            row_number() over (partition by month, subscription_id order by step desc) as from_last
        from compounding
    ) as net
        on gross_exact.month = net.month
        and gross_exact.subscription_id = net.subscription_id
        and net.from_last = 1

),

exact as (

    select
        month,
        subscription_id,
        -- over mrr_denominator x 10000 at least, like every month without a stack
        value * {{ integer_divide('greatest(scale, 10000)', 'scale') }} as mrr_numerator,
        mrr_denominator * greatest(scale, 10000) as mrr_denominator
    from discounted

),

final as (

    select
        exact.month,
        exact.subscription_id,
        subscriptions.customer_id,
        subscriptions.currency,
        cast(exact.mrr_numerator as {{ type_exact_integer() }}) as mrr_numerator,
        cast(exact.mrr_denominator as bigint) as mrr_denominator,
        cast(exact.mrr_numerator as {{ type_double() }}) / exact.mrr_denominator as mrr_minor
    from exact
    inner join subscriptions
        on exact.subscription_id = subscriptions.subscription_id

)

select * from final
