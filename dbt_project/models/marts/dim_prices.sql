with

prices as (

    select * from {{ ref('stg_stripe__prices') }}

),

products as (

    select * from {{ ref('stg_stripe__products') }}

),

final as (

    select
        prices.price_id,
        prices.product_id,
        products.product_name,
        prices.currency,
        prices.price_type,
        prices.unit_amount,
        prices.unit_amount_major,
        prices.recurring_interval,
        prices.recurring_interval_count,
        prices.recurring_usage_type as usage_type,
        prices.is_active,
        prices.created_at
    from prices
    left join products
        on prices.product_id = products.product_id

)

select * from final
