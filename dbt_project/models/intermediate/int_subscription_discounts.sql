{#-
    One row per discount on a subscription, with its coupon.

    Subscriptions are extracted with `discounts` expanded, so each discount carries its coupon
    (`source.coupon`; older API versions put it at `coupon`). Only `forever` coupons reduce
    MRR (docs/DESIGN.md §2); `once` and `repeating` ones discount invoices but not the recurring
    run rate, so they are kept here with is_mrr_reducing = false.
-#}

with

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

discounts as (

    select
        subscription_id,
        unnest(json_extract(discounts, '$[*]')) as discount
    from subscriptions

),

coupons as (

    select
        subscription_id,
        json_extract_string(discount, '$.id') as discount_id,
        coalesce(
            json_extract(discount, '$.source.coupon'), json_extract(discount, '$.coupon')
        ) as coupon,
        {{ epoch_to_timestamp("json_extract_string(discount, '$.start')") }} as discount_start_at,
        {{ epoch_to_timestamp("json_extract_string(discount, '$.end')") }} as discount_end_at
    from discounts
    -- a bare id would mean the subscription was not expanded: no coupon to read
    where json_type(discount) = 'OBJECT'

),

final as (

    select
        discount_id,
        subscription_id,
        json_extract_string(coupon, '$.id') as coupon_id,
        json_extract_string(coupon, '$.name') as coupon_name,
        json_extract_string(coupon, '$.duration') as coupon_duration,
        cast(json_extract_string(coupon, '$.duration_in_months') as bigint)
            as coupon_duration_in_months,
        cast(json_extract_string(coupon, '$.percent_off') as decimal(5, 2)) as percent_off,
        cast(json_extract_string(coupon, '$.amount_off') as bigint) as amount_off,
        lower(json_extract_string(coupon, '$.currency')) as amount_off_currency,
        json_extract_string(coupon, '$.duration') = 'forever' as is_mrr_reducing,
        discount_start_at,
        discount_end_at
    from coupons

)

select * from final
