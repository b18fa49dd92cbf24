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

proration_lines as (

    -- each proration line, ranked within its change (the item and the instant) by amount
    select
        subscription_item_id,
        period_start_at as changed_at,
        price_id,
        quantity,
        count(*) over change_lines as lines,
        min(amount) over change_lines as lowest_amount,
        max(amount) over change_lines as highest_amount,
        row_number() over (
            partition by subscription_item_id, period_start_at order by amount, invoice_item_id
        ) as from_lowest,
        row_number() over (
            partition by subscription_item_id, period_start_at
            order by amount desc, invoice_item_id
        ) as from_highest
    from invoice_items
    where is_proration and subscription_item_id is not null
    window change_lines as (partition by subscription_item_id, period_start_at)

),

item_changes as (

    select
        subscription_item_id,
        changed_at,
        -- the lowest line is the credit: a lone line only when negative (a debit alone names
        -- no old state) ...
        case when lines > 1 or lowest_amount < 0 then price_id end as price_id_before,
        case when lines > 1 or lowest_amount < 0 then quantity end as quantity_before,
        -- ... and the highest the debit: a lone line only when not negative (a credit alone
        -- names no new state)
        case when lines > 1 or highest_amount >= 0 then highest_price_id end as price_id_after,
        case when lines > 1 or highest_amount >= 0 then highest_quantity end as quantity_after
    from (
        select
            subscription_item_id,
            changed_at,
            lines,
            lowest_amount,
            highest_amount,
            max(case when from_lowest = 1 then price_id end) as price_id,
            max(case when from_lowest = 1 then quantity end) as quantity,
            max(case when from_highest = 1 then price_id end) as highest_price_id,
            max(case when from_highest = 1 then quantity end) as highest_quantity
        from proration_lines
        group by
            subscription_item_id,
            changed_at,
            lines,
            lowest_amount,
            highest_amount
    ) as changes_lines

),

billed_periods as (

    -- each period a licensed item was billed for (in advance), at that period's price and quantity
    select
        invoice_line_items.subscription_item_id,
        invoice_line_items.period_start_at as billed_from_at,
        {{ dbt.any_value("invoice_line_items.price_id") }} as price_id,
        {{ dbt.any_value("invoice_line_items.quantity") }} as quantity
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
        changed_at as first_credit_at,
        price_id_before as first_credit_price_id,
        quantity_before as first_credit_quantity
    from (
        select
            item_changes.*,
            row_number() over (
                partition by subscription_item_id order by changed_at
            ) as credit_order
        from item_changes
        where price_id_before is not null
    ) as credits
    where credit_order = 1

),

known_ends as (

    -- the first and the last state known, the one of lowest precedence at a shared instant
    select
        subscription_item_id,
        max(case when from_first = 1 then known_from_at end) as first_known_at,
        max(case when from_first = 1 then price_id end) as first_known_price_id,
        max(case when from_first = 1 then quantity end) as first_known_quantity,
        max(case when from_last = 1 then known_from_at end) as last_known_at,
        max(case when from_last = 1 then price_id end) as last_known_price_id,
        max(case when from_last = 1 then quantity end) as last_known_quantity
    from (
        select
            known_states.*,
            row_number() over (
                partition by subscription_item_id order by known_from_at, precedence
            ) as from_first,
            row_number() over (
                partition by subscription_item_id order by known_from_at desc, precedence
            ) as from_last
        from known_states
    ) as ordered_states
    group by subscription_item_id

),

first_and_last as (

    select
        subscription_items.subscription_item_id,
        subscription_items.created_at,
        subscription_items.price_id,
        subscription_items.quantity,
        subscription_items.current_period_end_at,
        first_credits.first_credit_at,
        first_credits.first_credit_price_id,
        first_credits.first_credit_quantity,
        known_ends.first_known_at,
        known_ends.first_known_price_id,
        known_ends.first_known_quantity,
        known_ends.last_known_at,
        known_ends.last_known_price_id,
        known_ends.last_known_quantity
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
            when first_credit_at <= coalesce(first_known_at, first_credit_at)
                then first_credit_price_id
            else coalesce(first_known_price_id, price_id)
        end,
        case
            when first_credit_at <= coalesce(first_known_at, first_credit_at)
                then first_credit_quantity
            else coalesce(first_known_quantity, quantity)
        end,
        3
    from first_and_last

    union all

    -- changed since it was last billed or prorated (proration_behavior=none): the item as it
    -- is now, from the next period it is billed for
    select
        subscription_item_id,
        coalesce(current_period_end_at, last_known_at),
        price_id,
        quantity,
        0
    from first_and_last
    where last_known_at is not null
        and (
            last_known_price_id is distinct from price_id
            or last_known_quantity is distinct from quantity
        )

),

states as (

    -- one state per instant: the one of lowest precedence
    select subscription_item_id, known_from_at, price_id, quantity
    from (
        select
            boundaries.*,
            row_number() over (
                partition by subscription_item_id, known_from_at order by precedence
            ) as instant_order
        from boundaries
    ) as ranked
    where instant_order = 1

),

changes as (

    -- the instants the state changes at, the first included
    select subscription_item_id, known_from_at, price_id, quantity
    from (
        select
            states.*,
            row_number() over item_states as state_order,
            lag(price_id) over item_states as price_id_before,
            lag(quantity) over item_states as quantity_before
        from states
        window item_states as (partition by subscription_item_id order by known_from_at)
    ) as sequenced
    where state_order = 1
        or price_id is distinct from price_id_before
        or quantity is distinct from quantity_before

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
                then cast(prices.unit_amount as {{ type_exact_integer() }})
                    * case prices.transform_quantity_round
                        when 'down' then {{ integer_divide(
                            'versions.quantity', 'prices.transform_quantity_divide_by'
                        ) }}
                        else {{ integer_divide(
                            'versions.quantity + prices.transform_quantity_divide_by - 1',
                            'prices.transform_quantity_divide_by'
                        ) }}
                    end
            else cast(prices.unit_amount as {{ type_exact_integer() }}) * versions.quantity
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
        cast(period_amount as {{ type_exact_integer() }}) as period_amount,
        recurring_interval,
        recurring_interval_count,
        recurring_usage_type,
        is_mrr_eligible,
        cast(
            case
                when is_mrr_eligible
                    then {{ clamp_at_zero('coalesce(period_amount, 0) * periods_per_year') }}
                else 0
            end as {{ type_exact_integer() }}
        ) as monthly_amount_numerator,
        cast(12 * recurring_interval_count as bigint) as monthly_amount_denominator
    from priced

)

select * from final
