{#-
    One row per subscription item with its price normalized to one month, in minor units.

    The amount is kept as an exact fraction (monthly_amount_numerator /
    monthly_amount_denominator) so that sums can be rounded exactly downstream, plus a DOUBLE
    approximation (monthly_amount_minor) for reading.

    Discounts: coupons with duration `forever` will reduce the monthly amount here
    (discount_monthly_amount_numerator, same denominator). No coupons exist yet, so it is 0.
-#}

with

subscription_items as (

    select * from {{ ref('stg_stripe__subscription_items') }}

),

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

normalized as (

    select
        subscription_items.subscription_item_id,
        subscription_items.subscription_id,
        subscriptions.customer_id,
        subscription_items.price_id,
        subscription_items.product_id,
        subscriptions.currency,
        subscription_items.price_currency,
        subscription_items.quantity,
        subscription_items.price_unit_amount as unit_amount,
        subscription_items.price_recurring_interval as recurring_interval,
        coalesce(subscription_items.price_recurring_interval_count, 1) as recurring_interval_count,
        subscription_items.price_recurring_usage_type as recurring_usage_type,

        -- licensed (per-seat) recurring prices count toward MRR; metered and one-time do not
        (
            subscription_items.price_recurring_interval in ('day', 'week', 'month', 'year')
            and coalesce(subscription_items.price_recurring_usage_type, 'licensed') = 'licensed'
            and subscription_items.price_unit_amount is not null
            and subscription_items.quantity is not null
        ) as is_mrr_eligible,

        -- billing periods per year for one interval: month 12, year 1, week 52, day 365
        case subscription_items.price_recurring_interval
            when 'month' then 12
            when 'year' then 1
            when 'week' then 52
            when 'day' then 365
        end as periods_per_year

    from subscription_items
    left join subscriptions
        on subscription_items.subscription_id = subscriptions.subscription_id

),

amounts as (

    select
        *,
        case
            when is_mrr_eligible
                then greatest(cast(unit_amount as hugeint) * quantity * periods_per_year, 0)
            else 0
        end as gross_monthly_amount_numerator,
        -- placeholder: forever-coupon discounts (same denominator), none exist yet
        cast(0 as hugeint) as discount_monthly_amount_numerator,
        cast(12 * recurring_interval_count as bigint) as monthly_amount_denominator
    from normalized

),

final as (

    select
        subscription_item_id,
        subscription_id,
        customer_id,
        price_id,
        product_id,
        currency,
        price_currency,
        quantity,
        unit_amount,
        recurring_interval,
        recurring_interval_count,
        recurring_usage_type,
        is_mrr_eligible,
        cast(gross_monthly_amount_numerator as hugeint) as gross_monthly_amount_numerator,
        discount_monthly_amount_numerator,
        cast(
            greatest(gross_monthly_amount_numerator - discount_monthly_amount_numerator, 0)
            as hugeint
        ) as monthly_amount_numerator,
        monthly_amount_denominator,
        cast(gross_monthly_amount_numerator as double)
            / monthly_amount_denominator as gross_monthly_amount_minor,
        cast(discount_monthly_amount_numerator as double)
            / monthly_amount_denominator as discount_monthly_amount_minor,
        cast(
            greatest(gross_monthly_amount_numerator - discount_monthly_amount_numerator, 0)
            as double
        ) / monthly_amount_denominator as monthly_amount_minor

    from amounts

)

select * from final
