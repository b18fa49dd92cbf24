{#-
    One row per customer, deleted customers included (is_deleted; Stripe keeps only the id
    of a deleted customer, so most attributes are null for them).

    currency is the customer's own currency, else (deleted customers) the currency of its
    subscriptions or invoices. lifetime_paid_minor sums the `total` of the customer's paid
    invoices in that currency only, so currencies are never mixed.
-#}

with

customers as (

    select * from {{ ref('stg_stripe__customers') }}

),

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

customer_subscriptions as (

    select
        customer_id,
        min(started_at) as first_subscription_at,
        max(case when recency = 1 then status end) as latest_subscription_status,
        min(currency) as subscription_currency,
        count(*) as subscriptions_count
    from (
        select
            subscriptions.*,
            row_number() over (
                partition by customer_id
                order by created_at desc, subscription_id desc
            ) as recency
        from subscriptions
    ) as ranked
    group by
        customer_id

),

customer_invoice_currencies as (

    select
        customer_id,
        min(currency) as invoice_currency
    from invoices
    group by
        customer_id

),

customers_with_currency as (

    select
        customers.*,
        coalesce(
            customers.currency,
            customer_subscriptions.subscription_currency,
            customer_invoice_currencies.invoice_currency
        ) as resolved_currency
    from customers
    left join customer_subscriptions
        on customers.customer_id = customer_subscriptions.customer_id
    left join customer_invoice_currencies
        on customers.customer_id = customer_invoice_currencies.customer_id

),

customer_payments as (

    select
        invoices.customer_id,
        sum(invoices.total) as lifetime_paid_minor
    from invoices
    inner join customers_with_currency
        on invoices.customer_id = customers_with_currency.customer_id
        and invoices.currency = customers_with_currency.resolved_currency
    where invoices.status = 'paid'
    group by
        invoices.customer_id

),

final as (

    select
        customers_with_currency.customer_id,
        {{ personal_data('customers_with_currency.email') }} as email,
        {{ personal_data('customers_with_currency.customer_name') }} as name,
        customers_with_currency.resolved_currency as currency,
        customers_with_currency.address_country as country,
        customers_with_currency.created_at,
        -- a deleted customer is a tombstone without `created`: its first subscription dates it
        coalesce(
            customers_with_currency.created_at, customer_subscriptions.first_subscription_at
        ) as signed_up_at,
        customers_with_currency.is_deleted,
        customer_subscriptions.first_subscription_at,
        customer_subscriptions.latest_subscription_status,
        cast(coalesce(customer_subscriptions.subscriptions_count, 0) as bigint)
            as subscriptions_count,
        cast(coalesce(customer_payments.lifetime_paid_minor, 0) as bigint) as lifetime_paid_minor,
        {{ to_major_units(
            'coalesce(customer_payments.lifetime_paid_minor, 0)',
            'customers_with_currency.resolved_currency'
        ) }} as lifetime_paid,
        coalesce(customers_with_currency.is_delinquent, false) as is_delinquent
    from customers_with_currency
    left join customer_subscriptions
        on customers_with_currency.customer_id = customer_subscriptions.customer_id
    left join customer_payments
        on customers_with_currency.customer_id = customer_payments.customer_id

)

select * from final
