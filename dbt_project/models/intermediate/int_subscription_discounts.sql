{#-
    One row per discount on a subscription, with its coupon: the subscription's own discounts,
    numbered in the order of its `discounts` (the order they apply in), and its customer's
    discount, which Stripe applies to a subscription only while it has none of its own ("if
    not specified or empty, inherits the discount from the subscription's customer"). A
    customer's discount is read from the customer and from its invoices, which keep it once
    the customer is deleted (a deleted customer shows nothing but its id).

    A discount ends at its `end`, or earlier when it is removed. Stripe says so with a
    `customer.discount.deleted` event; a customer's discount its invoices show but the
    (undeleted) customer no longer does, with no such event (removed before the events the
    pipeline holds), ends at the customer's first invoice after the last one showing it (or,
    with none, when the customer was read without it): the earliest instant the data shows it
    gone.

    Subscriptions and customers are extracted with their discounts' coupons expanded
    (`source.coupon`; older API versions put the coupon at `coupon`); a coupon that is still a
    bare id (raw loaded without that expansion) is read from the coupons table. Only `forever`
    coupons reduce MRR (docs/DESIGN.md §2); `once` and `repeating` ones discount invoices but
    not the recurring run rate, so they are kept here with is_mrr_reducing = false.
-#}

{#- what each discount carries besides its coupon, read from either kind of coupon below -#}
{%- set discount_columns = [
    'subscription_id', 'is_customer_discount', 'discount_position', 'discount_id',
    'discount_start_at', 'discount_end_at',
] %}

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
        subscriptions.subscription_id,
        false as is_customer_discount,
        listed.element as discount,
        listed.element_position as discount_position
    from subscriptions
    cross join lateral {{ json_array_elements('subscriptions.discounts') }} as listed

),

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

events as (

    select * from {{ ref('stg_stripe__events') }}

),

removals as (

    select object_id as discount_id, min(created_at) as removed_at
    from events
    where event_type = 'customer.discount.deleted'
    group by object_id

),

invoiced_discounts as (

    select invoices.customer_id, invoices.created_at, shown.element as discount
    from invoices
    cross join lateral {{ json_array_elements('invoices.discounts') }} as shown

),

customers_discounts as (

    -- a customer's discount as it shows now, and as its invoices show it (a deleted customer
    -- shows none): one not tied to a subscription, an invoice or an item
    select
        customer_id,
        discount_id,
        discount,
        is_only_invoiced,
        last_invoiced_at
    from (
        select
            customer_id,
            discount_id,
            discount,
            min(source_rank) over seen_discount = 2 as is_only_invoiced,
            max(invoiced_at) over seen_discount as last_invoiced_at,
            row_number() over (
                partition by customer_id, discount_id order by source_rank
            ) as source_order
        from (
            select customer_id, discount, 1 as source_rank, null as invoiced_at
            from customers
            union all
            select customer_id, discount, 2, created_at
            from invoiced_discounts
        ) as seen
        cross join lateral (select {{ json_text('discount', '$.id') }} as discount_id) as identified
        where {{ json_is_object('discount') }}
            and {{ json_text('discount', '$.subscription') }} is null
            and {{ json_text('discount', '$.subscription_item') }} is null
            and {{ json_text('discount', '$.invoice') }} is null
            and {{ json_text('discount', '$.invoice_item') }} is null
        window seen_discount as (partition by customer_id, discount_id)
    ) as sources
    where source_order = 1

),

shown_gone as (

    -- a customer's discount only its invoices show while the customer is still there: gone by
    -- the customer's next invoice, or else by when the customer was read without it
    select
        customers_discounts.customer_id,
        customers_discounts.discount_id,
        coalesce(min(later.created_at), {{ dbt.any_value("customers.extracted_at") }}) as gone_by
    from customers_discounts
    inner join customers
        on customers_discounts.customer_id = customers.customer_id
        and not customers.is_deleted
    left join invoices as later
        on customers_discounts.customer_id = later.customer_id
        and later.created_at > customers_discounts.last_invoiced_at
    where customers_discounts.is_only_invoiced
    group by customers_discounts.customer_id, customers_discounts.discount_id

),

customer_discounts as (

    select
        subscriptions.subscription_id,
        true as is_customer_discount,
        customers_discounts.discount,
        1 as discount_position,
        shown_gone.gone_by
    from subscriptions
    inner join customers_discounts
        on subscriptions.customer_id = customers_discounts.customer_id
    left join shown_gone
        on customers_discounts.customer_id = shown_gone.customer_id
        and customers_discounts.discount_id = shown_gone.discount_id

),

discounts as (

    select
        every_discount.subscription_id,
        every_discount.is_customer_discount,
        every_discount.discount_position,
        ends.discount_id,
        coalesce(
            {{ json_value('every_discount.discount', '$.source.coupon') }},
            {{ json_value('every_discount.discount', '$.coupon') }}
        ) as coupon,
        {{ epoch_to_timestamp(json_text('every_discount.discount', '$.start')) }}
            as discount_start_at,
        -- the earliest of its `end`, its removal and the instant it shows gone (least skips
        -- nulls on every engine this project runs on)
        least(ends.scheduled_end_at, removals.removed_at, every_discount.gone_by)
            as discount_end_at
    from (
        select
            subscription_id, is_customer_discount, discount, discount_position,
            null as gone_by
        from own_discounts
        union all
        select subscription_id, is_customer_discount, discount, discount_position, gone_by
        from customer_discounts
    ) as every_discount
    cross join lateral (
        select
            {{ json_text('every_discount.discount', '$.id') }} as discount_id,
            {{ epoch_to_timestamp(json_text('every_discount.discount', '$.end')) }}
                as scheduled_end_at
    ) as ends
    left join removals
        on ends.discount_id = removals.discount_id
    -- a bare id would mean the object was not expanded: no coupon to read
    where {{ json_is_object('every_discount.discount') }}

),

expanded_coupons as (

    select
        {%- for column in discount_columns %}
        discounts.{{ column }},
        {%- endfor %}
        {{ json_text('coupon', '$.id') }} as coupon_id,
        {{ json_text('coupon', '$.name') }} as coupon_name,
        {{ json_text('coupon', '$.duration') }} as coupon_duration,
        cast({{ json_text('coupon', '$.duration_in_months') }} as bigint)
            as coupon_duration_in_months,
        cast({{ json_text('coupon', '$.percent_off') }} as decimal(5, 2)) as percent_off,
        cast({{ json_text('coupon', '$.amount_off') }} as bigint) as amount_off,
        lower({{ json_text('coupon', '$.currency') }}) as amount_off_currency
    from discounts
    where {{ json_is_object('coupon') }}

),

listed_coupons as (

    select
        {%- for column in discount_columns %}
        discounts.{{ column }},
        {%- endfor %}
        coupons.coupon_id,
        coupons.coupon_name,
        coupons.duration as coupon_duration,
        coupons.duration_in_months as coupon_duration_in_months,
        cast(coupons.percent_off as decimal(5, 2)) as percent_off,
        coupons.amount_off,
        coupons.currency as amount_off_currency
    from discounts
    inner join coupons
        on {{ json_text('discounts.coupon', '$') }} = coupons.coupon_id
    where {{ json_is_string('discounts.coupon') }}

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
        union all
        select * from listed_coupons
    ) as with_coupons

)

select * from final
