with

products as (

    select * from {{ ref('stg_stripe__products') }}

),

prices as (

    select * from {{ ref('stg_stripe__prices') }}

),

product_prices as (

    select
        product_id,
        count(*) as prices_count
    from prices
    group by
        product_id

),

final as (

    select
        products.product_id,
        products.product_name,
        products.is_active,
        products.is_deleted,
        products.created_at,
        cast(coalesce(product_prices.prices_count, 0) as bigint) as prices_count
    from products
    left join product_prices
        on products.product_id = product_prices.product_id

)

select * from final
