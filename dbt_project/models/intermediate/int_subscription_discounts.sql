{#-
    One row per discount on a subscription, with its coupon: the subscription's own discounts,
    numbered in the order of its `discounts` (the order they apply in), and its customer's
    discount, which Stripe applies to a subscription only while it has none of its own ("if
    not specified or empty, inherits the discount from the subscription's customer"). A
    customer's discount is read from the customer and from its invoices, which keep it once
    the customer is deleted (a deleted customer shows nothing but its id).

    Subscriptions and customers are extracted with their discounts' coupons expanded
    (`source.coupon`; older API versions put the coupon at `coupon`); a coupon that is still a
    bare id (raw loaded without that expansion) is read from the coupons table. Only `forever`
    coupons reduce MRR (docs/DESIGN.md §2); `once` and `repeating` ones discount invoices but
    not the recurring run rate, so they are kept here with is_mrr_reducing = false.
-#}

with

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

customers as (

    select * from {{ ref('stg_stripe__customers') }}

),

coupons as (

    select * from {{ ref('stg_stripe__coupons') }}

),

own_discounts as (

    select
        subscription_id,
        false as is_customer_discount,
        unnest(
            list_transform(
                json_extract(discounts, '$[*]'),
                lambda discount, position: {'discount': discount, 'discount_position': position}
            ),
            recursive := true
        )
    from subscriptions

),

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

customers_discounts as (

    -- a customer's discount as it shows now, and as its invoices show it (a deleted customer
    -- shows none): one not tied to a subscription, an invoice or an item
    select customer_id, discount_id, discount
    from (
        select customer_id, discount, 1 as source_rank
        from customers
        union all
        select customer_id, unnest(json_extract(discounts, '$[*]')), 2
        from invoices
    ) as seen
    cross join lateral (select json_extract_string(discount, '$.id') as discount_id)
    where json_type(discount) = 'OBJECT'
        and json_extract_string(discount, '$.subscription') is null
        and json_extract_string(discount, '$.subscription_item') is null
        and json_extract_string(discount, '$.invoice') is null
        and json_extract_string(discount, '$.invoice_item') is null
    qualify row_number() over (partition by customer_id, discount_id order by source_rank) = 1

),

customer_discounts as (

    select
        subscriptions.subscription_id,
        true as is_customer_discount,
        customers_discounts.discount,
        1 as discount_position
    from subscriptions
    inner join customers_discounts
        on subscriptions.customer_id = customers_discounts.customer_id

),

discounts as (

    select
        subscription_id,
        is_customer_discount,
        discount_position,
        json_extract_string(discount, '$.id') as discount_id,
        coalesce(
            json_extract(discount, '$.source.coupon'), json_extract(discount, '$.coupon')
        ) as coupon,
        {{ epoch_to_timestamp("json_extract_string(discount, '$.start')") }} as discount_start_at,
        {{ epoch_to_timestamp("json_extract_string(discount, '$.end')") }} as discount_end_at
    from (
        select subscription_id, is_customer_discount, discount, discount_position
        from own_discounts
        union all
        select subscription_id, is_customer_discount, discount, discount_position
        from customer_discounts
    ) as every_discount
    -- a bare id would mean the object was not expanded: no coupon to read
    where json_type(discount) = 'OBJECT'

),

expanded_coupons as (

    select
        discounts.* exclude (coupon),
        json_extract_string(coupon, '$.id') as coupon_id,
        json_extract_string(coupon, '$.name') as coupon_name,
        json_extract_string(coupon, '$.duration') as coupon_duration,
        cast(json_extract_string(coupon, '$.duration_in_months') as bigint)
            as coupon_duration_in_months,
        cast(json_extract_string(coupon, '$.percent_off') as decimal(5, 2)) as percent_off,
        cast(json_extract_string(coupon, '$.amount_off') as bigint) as amount_off,
        lower(json_extract_string(coupon, '$.currency')) as amount_off_currency
    from discounts
    where json_type(coupon) = 'OBJECT'

),

listed_coupons as (

    select
        discounts.* exclude (coupon),
        coupons.coupon_id,
        coupons.coupon_name,
        coupons.duration as coupon_duration,
        coupons.duration_in_months as coupon_duration_in_months,
        cast(coupons.percent_off as decimal(5, 2)) as percent_off,
        coupons.amount_off,
        coupons.currency as amount_off_currency
    from discounts
    inner join coupons
        on discounts.coupon ->> '$' = coupons.coupon_id
    where json_type(discounts.coupon) = 'VARCHAR'

),

final as (

    select
        discount_id,
        subscription_id,
        is_customer_discount,
        discount_position,
        coupon_id,
        coupon_name,
        coupon_duration,
        coupon_duration_in_months,
        percent_off,
        amount_off,
        amount_off_currency,
        coalesce(coupon_duration = 'forever', false) as is_mrr_reducing,
        discount_start_at,
        discount_end_at
    from (
        select * from expanded_coupons
        union all by name
        select * from listed_coupons
    ) as with_coupons

)

select * from final
