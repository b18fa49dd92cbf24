{#-
    One row per subscription item and version: the price and quantity the item had from
    valid_from_at until valid_to_at (null: still), with that price normalized to one month.

    Stripe keeps no history of a subscription item, but a mid-period change (an upgrade, a
    downgrade, a seat change) leaves a proration pair on the item for ever: a credit for the
    unused time at the OLD price and quantity and a charge for the remaining time at the new
    ones, both with period.start = the instant of the change. The credit is the pair's lower
    amount, not always a negative one: an upgrade from a free ($0) price credits 0. So an item's
    versions are: before its first change, the first change's old state; between two changes,
    the later change's old state; after its last change, the item as it is now.

    A version's period_amount is what one billing period of its quantity costs, as Stripe
    prices it: unit_amount x quantity per unit; unit_amount x the quantity divided by the
    package size, rounded as the price says, for a package price (transform_quantity); from
    int_price_tiers for a tiered one (volume: every unit at the tier the quantity falls in, plus
    that tier's flat amount; graduated: each unit at the tier it falls in, plus the flat amount
    of every tier reached). The monthly amount is exact: monthly_amount_numerator /
    monthly_amount_denominator minor units (period_amount x billing periods per year /
    (12 x interval_count)), so that sums can be rounded once, exactly, downstream.
-#}

with

subscription_items as (

    select * from {{ ref('stg_stripe__subscription_items') }}

),

invoice_items as (

    select * from {{ ref('stg_stripe__invoice_items') }}

),

prices as (

    select * from {{ ref('stg_stripe__prices') }}

),

price_tiers as (

    select * from {{ ref('int_price_tiers') }}

),

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

item_changes as (

    select
        subscription_item_id,
        period_start_at as changed_at,
        -- a lone line is a credit only when negative (a debit alone names no old state)
        case when count(*) > 1 or min(amount) < 0 then arg_min(price_id, amount) end
            as price_id_before,
        case when count(*) > 1 or min(amount) < 0 then arg_min(quantity, amount) end
            as quantity_before,
        row_number() over (
            partition by subscription_item_id order by period_start_at
        ) as change_number
    from invoice_items
    where is_proration and subscription_item_id is not null
    group by
        subscription_item_id,
        period_start_at

),

version_starts as (

    select
        subscription_item_id,
        created_at as valid_from_at,
        1 as next_change_number
    from subscription_items

    union all

    select
        subscription_item_id,
        changed_at as valid_from_at,
        change_number + 1 as next_change_number
    from item_changes

),

versions as (

    select
        version_starts.subscription_item_id,
        subscription_items.subscription_id,
        version_starts.valid_from_at,
        lead(version_starts.valid_from_at) over (
            partition by version_starts.subscription_item_id
            order by version_starts.valid_from_at
        ) as valid_to_at,
        -- the state before the next change, or the item as it is now after the last one
        coalesce(next_change.price_id_before, subscription_items.price_id) as price_id,
        coalesce(next_change.quantity_before, subscription_items.quantity) as quantity
    from version_starts
    inner join subscription_items
        on version_starts.subscription_item_id = subscription_items.subscription_item_id
    left join item_changes as next_change
        on version_starts.subscription_item_id = next_change.subscription_item_id
        and version_starts.next_change_number = next_change.change_number

),

tiered_amounts as (

    select
        versions.subscription_item_id,
        versions.valid_from_at,
        sum(
            case
                when versions.quantity <= price_tiers.lower_bound then 0
                when price_tiers.tiers_mode = 'graduated'
                    then (least(versions.quantity, coalesce(price_tiers.up_to, versions.quantity))
                        - price_tiers.lower_bound) * price_tiers.unit_amount
                        + price_tiers.flat_amount
                when price_tiers.up_to is null or versions.quantity <= price_tiers.up_to
                    then versions.quantity * price_tiers.unit_amount + price_tiers.flat_amount
                else 0
            end
        ) as period_amount
    from versions
    inner join price_tiers
        on versions.price_id = price_tiers.price_id
    group by
        versions.subscription_item_id,
        versions.valid_from_at

),

priced as (

    select
        versions.*,
        subscriptions.customer_id,
        subscriptions.currency,
        prices.currency as price_currency,
        prices.unit_amount,
        case
            when prices.billing_scheme = 'tiered' then tiered_amounts.period_amount
            when prices.transform_quantity_divide_by is not null
                then cast(prices.unit_amount as hugeint) * case prices.transform_quantity_round
                    when 'down' then versions.quantity // prices.transform_quantity_divide_by
                    else (versions.quantity + prices.transform_quantity_divide_by - 1)
                        // prices.transform_quantity_divide_by
                end
            else cast(prices.unit_amount as hugeint) * versions.quantity
        end as period_amount,
        prices.recurring_interval,
        coalesce(prices.recurring_interval_count, 1) as recurring_interval_count,
        prices.recurring_usage_type,
        -- licensed (per-seat) recurring prices count toward MRR; metered and one-time do not
        coalesce(
            prices.recurring_interval in ('day', 'week', 'month', 'year')
            and coalesce(prices.recurring_usage_type, 'licensed') = 'licensed'
            and versions.quantity is not null
            and (prices.unit_amount is not null or prices.billing_scheme = 'tiered'),
            false
        ) as is_mrr_eligible,
        -- billing periods per year for one interval
        case prices.recurring_interval
            when 'month' then 12
            when 'year' then 1
            when 'week' then 52
            when 'day' then 365
        end as periods_per_year
    from versions
    left join subscriptions
        on versions.subscription_id = subscriptions.subscription_id
    left join prices
        on versions.price_id = prices.price_id
    left join tiered_amounts
        on versions.subscription_item_id = tiered_amounts.subscription_item_id
        and versions.valid_from_at = tiered_amounts.valid_from_at

),

final as (

    select
        subscription_item_id,
        subscription_id,
        customer_id,
        valid_from_at,
        valid_to_at,
        price_id,
        quantity,
        currency,
        price_currency,
        unit_amount,
        cast(period_amount as hugeint) as period_amount,
        recurring_interval,
        recurring_interval_count,
        recurring_usage_type,
        is_mrr_eligible,
        cast(
            case
                when is_mrr_eligible
                    then greatest(coalesce(period_amount, 0) * periods_per_year, 0)
                else 0
            end as hugeint
        ) as monthly_amount_numerator,
        cast(12 * recurring_interval_count as bigint) as monthly_amount_denominator
    from priced

)

select * from final
