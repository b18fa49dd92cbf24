{#-
    One row per tier of a tiered price (Stripe `billing_scheme` tiered): the quantities it
    covers, (lower_bound, up_to], and what it costs, per unit and flat. Stripe lists tiers in
    ascending order, the last with up_to null (no bound).
-#}

with

prices as (

    select * from {{ ref('stg_stripe__prices') }}
    where billing_scheme = 'tiered' and tiers is not null

),

tiers as (

    select
        prices.price_id,
        prices.tiers_mode,
        listed.element_position as tier_number,
        cast({{ json_text('listed.element', '$.up_to') }} as bigint) as up_to,
        cast({{ json_text('listed.element', '$.unit_amount') }} as bigint) as unit_amount,
        cast({{ json_text('listed.element', '$.flat_amount') }} as bigint) as flat_amount
    from prices
    cross join lateral {{ json_array_elements('prices.tiers') }} as listed

),

final as (

    select
        price_id,
        tiers_mode,
        cast(tier_number as bigint) as tier_number,
        coalesce(lag(up_to) over (partition by price_id order by tier_number), 0) as lower_bound,
        up_to,
        coalesce(unit_amount, 0) as unit_amount,
        coalesce(flat_amount, 0) as flat_amount
    from tiers

)

select * from final
