{#-
    One row per subscription. The plan product is the product of the subscription's first
    licensed item (earliest created, then lowest id).

    Coupons are not resolved: `discounts` holds only discount ids (di_...), and no staging
    model maps a discount to its coupon, so only the discount ids are exposed.
-#}

with

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

subscription_items as (

    select * from {{ ref('stg_stripe__subscription_items') }}

),

products as (

    select * from {{ ref('stg_stripe__products') }}

),

subscription_item_counts as (

    select
        subscription_id,
        count(*) as items_count
    from subscription_items
    where not is_deleted
    group by
        subscription_id

),

plan_items as (

    select
        subscription_id,
        product_id
    from (
        select
            subscription_id,
            product_id,
            row_number() over (
                partition by subscription_id
                order by created_at, subscription_item_id
            ) as item_order
        from subscription_items
        where not is_deleted
            and price_recurring_usage_type = 'licensed'
    ) as ordered
    where item_order = 1

),

final as (

    select
        subscriptions.subscription_id,
        subscriptions.customer_id,
        subscriptions.currency,
        subscriptions.status,
        subscriptions.created_at,
        subscriptions.started_at,
        subscriptions.trial_start_at,
        subscriptions.trial_end_at,
        subscriptions.canceled_at,
        subscriptions.ended_at,
        subscriptions.cancel_at_period_end,
        cast(coalesce(subscription_item_counts.items_count, 0) as bigint) as items_count,
        plan_items.product_id,
        products.product_name,
        case
            when {{ json_is_object('subscriptions.discounts', '$[0]') }}
                then {{ json_text('subscriptions.discounts', '$[0].id') }}
            else {{ json_text('subscriptions.discounts', '$[0]') }}
        end as discount_id,
        cast(coalesce({{ json_length('subscriptions.discounts') }}, 0) as bigint)
            as discounts_count
    from subscriptions
    left join subscription_item_counts
        on subscriptions.subscription_id = subscription_item_counts.subscription_id
    left join plan_items
        on subscriptions.subscription_id = plan_items.subscription_id
    left join products
        on plan_items.product_id = products.product_id

)

select * from final
