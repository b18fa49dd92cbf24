{{ config(**incremental_fact_config(unique_key='invoice_line_item_id')) }}

with

invoice_line_items as (

    select * from {{ ref('stg_stripe__invoice_line_items') }}

),

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

final as (

    select
        invoice_line_items.invoice_line_item_id,
        invoice_line_items.invoice_id,
        invoices.customer_id,
        invoice_line_items.subscription_id,
        invoice_line_items.subscription_item_id,
        invoice_line_items.invoice_item_id,
        invoice_line_items.price_id,
        invoice_line_items.product_id,
        invoice_line_items.description,
        invoice_line_items.currency,
        invoice_line_items.amount,
        invoice_line_items.amount_major,
        invoice_line_items.quantity,
        invoice_line_items.is_proration,
        invoice_line_items.period_start_at,
        invoice_line_items.period_end_at,
        case invoice_line_items.parent_type
            when 'subscription_item_details' then 'subscription_item'
            when 'invoice_item_details' then 'invoice_item'
        end as line_type,
        {{ newest_load_id(['invoice_line_items.raw_load_id', 'invoices.raw_load_id']) }}
            as raw_load_id
    from invoice_line_items
    left join invoices
        on invoice_line_items.invoice_id = invoices.invoice_id
    {% if is_incremental() %}
    where {{ loaded_since_last_build('invoice_line_items.raw_load_id') }}
        or {{ loaded_since_last_build(
            'invoices.raw_load_id', key='invoices.invoice_id'
        ) }}
    {% endif %}

)

select * from final
