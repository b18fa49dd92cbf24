{#-
    One row per subscription item and version: the price and quantity the item had from
    valid_from_at until valid_to_at (null: still), with that price normalized to one month.

    Stripe keeps no history of a subscription item, but it keeps for ever what the item was
    billed and prorated at:
    - a prorated change (an upgrade, a downgrade, a seat change) leaves a proration pair: a
      credit for the unused time at the OLD price and quantity and a charge for the remaining
      time at the new ones, both with period.start = the instant of the change. The credit is
      the pair's lower amount, not always a negative one: an upgrade from a free ($0) price
      credits 0;
    - each period is billed (in advance, for a licensed price) at the price and quantity the
      item has when the period starts.
    So the item has, from each such instant, the state the charge or the bill shows; from its
    creation, the state its first change credits (or else its first bill shows); and a change
    seen in neither (made with proration_behavior=none, not billed yet) from the end of its
    current period, when it is first billed. A change without proration thus counts from the
    first period billed at it (docs/DESIGN.md §2).

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

invoice_line_items as (

    select * from {{ ref('stg_stripe__invoice_line_items') }}

),

item_changes as (

    select
        subscription_item_id,
        period_start_at as changed_at,
        -- a lone line is a credit only when negative (a debit alone names no old state) ...
        case when count(*) > 1 or min(amount) < 0 then arg_min(price_id, amount) end
            as price_id_before,
        case when count(*) > 1 or min(amount) < 0 then arg_min(quantity, amount) end
            as quantity_before,
        -- ... and a debit only when not negative (a credit alone names no new state)
        case when count(*) > 1 or max(amount) >= 0 then arg_max(price_id, amount) end
            as price_id_after,
        case when count(*) > 1 or max(amount) >= 0 then arg_max(quantity, amount) end
            as quantity_after
    from invoice_items
    where is_proration and subscription_item_id is not null
    group by
        subscription_item_id,
        period_start_at

),

billed_periods as (

    -- each period a licensed item was billed for (in advance), at that period's price and quantity
    select
        invoice_line_items.subscription_item_id,
        invoice_line_items.period_start_at as billed_from_at,
        any_value(invoice_line_items.price_id) as price_id,
        any_value(invoice_line_items.quantity) as quantity
    from invoice_line_items
    inner join prices
        on invoice_line_items.price_id = prices.price_id
    where invoice_line_items.parent_type = 'subscription_item_details'
        and not invoice_line_items.is_proration
        and coalesce(prices.recurring_usage_type, 'licensed') = 'licensed'
    group by
        invoice_line_items.subscription_item_id,
        invoice_line_items.period_start_at

),

known_states as (

    -- the state an item is known to have had from an instant on (precedence: lowest wins)
    select subscription_item_id, changed_at as known_from_at, price_id_after as price_id,
        quantity_after as quantity, 1 as precedence
    from item_changes
    where price_id_after is not null

    union all

    select subscription_item_id, billed_from_at, price_id, quantity, 2
    from billed_periods

),

first_credits as (

    select
        subscription_item_id,
        arg_min(
            {'at': changed_at, 'price_id': price_id_before, 'quantity': quantity_before},
            changed_at
        ) as first_credit
    from item_changes
    where price_id_before is not null
    group by subscription_item_id

),

known_ends as (

    select
        subscription_item_id,
        arg_min({'at': known_from_at, 'price_id': price_id, 'quantity': quantity}, known_from_at)
            as first_known,
        arg_max({'at': known_from_at, 'price_id': price_id, 'quantity': quantity}, known_from_at)
            as last_known
    from known_states
    group by subscription_item_id

),

first_and_last as (

    select
        subscription_items.subscription_item_id,
        subscription_items.created_at,
        subscription_items.price_id,
        subscription_items.quantity,
        subscription_items.current_period_end_at,
        first_credits.first_credit,
        known_ends.first_known,
        known_ends.last_known
    from subscription_items
    left join first_credits
        on subscription_items.subscription_item_id = first_credits.subscription_item_id
    left join known_ends
        on subscription_items.subscription_item_id = known_ends.subscription_item_id

),

boundaries as (

    select subscription_item_id, known_from_at, price_id, quantity, precedence
    from known_states

    union all

    -- from its creation: the state its first change credits, or else its first billed state,
    -- or else the item as it is now
    select
        subscription_item_id,
        created_at,
        case
            when first_credit.at <= coalesce(first_known.at, first_credit.at)
                then first_credit.price_id
            else coalesce(first_known.price_id, price_id)
        end,
        case
            when first_credit.at <= coalesce(first_known.at, first_credit.at)
                then first_credit.quantity
            else coalesce(first_known.quantity, quantity)
        end,
        3
    from first_and_last

    union all

    -- changed since it was last billed or prorated (proration_behavior=none): the item as it
    -- is now, from the next period it is billed for
    select
        subscription_item_id,
        coalesce(current_period_end_at, last_known.at),
        price_id,
        quantity,
        0
    from first_and_last
    where last_known.at is not null
        and (last_known.price_id, last_known.quantity) is distinct from (price_id, quantity)

),

states as (

    select *
    from boundaries
    qualify row_number() over (
        partition by subscription_item_id, known_from_at order by precedence
    ) = 1

),

changes as (

    select *
    from states
    qualify (price_id, quantity) is distinct from lag((price_id, quantity)) over (
        partition by subscription_item_id order by known_from_at
    )

),

versions as (

    select
        changes.subscription_item_id,
        subscription_items.subscription_id,
        changes.known_from_at as valid_from_at,
        lead(changes.known_from_at) over (
            partition by changes.subscription_item_id order by changes.known_from_at
        ) as valid_to_at,
        changes.price_id,
        changes.quantity
    from changes
    inner join subscription_items
        on changes.subscription_item_id = subscription_items.subscription_item_id

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
