{{ config(**incremental_fact_config(unique_key='invoice_id')) }}

with

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

invoice_line_items as (

    select * from {{ ref('stg_stripe__invoice_line_items') }}

),

invoice_lines as (

    select
        invoice_id,
        count(*) as lines_count,
        sum(amount) as lines_amount,
        max(raw_load_id) as raw_load_id
    from invoice_line_items
    group by
        invoice_id

),

final as (

    select
        invoices.invoice_id,
        invoices.customer_id,
        invoices.subscription_id,
        invoices.invoice_number,
        invoices.status,
        invoices.billing_reason,
        invoices.collection_method,
        invoices.currency,
        invoices.subtotal,
        invoices.total,
        invoices.amount_paid,
        invoices.amount_due,
        invoices.amount_remaining,
        invoices.total_major,
        invoices.amount_paid_major,
        invoices.created_at,
        invoices.finalized_at,
        invoices.paid_at,
        invoices.voided_at,
        invoices.period_start_at,
        invoices.period_end_at,
        cast(coalesce(invoice_lines.lines_count, 0) as bigint) as lines_count,
        cast(coalesce(invoice_lines.lines_amount, 0) as bigint) as lines_amount,
        {{ newest_load_id(['invoices.raw_load_id', 'invoice_lines.raw_load_id']) }} as raw_load_id
    from invoices
    left join invoice_lines
        on invoices.invoice_id = invoice_lines.invoice_id
    {% if is_incremental() %}
    where {{ loaded_since_last_build('invoices.raw_load_id') }}
        or {{ loaded_since_last_build('invoice_lines.raw_load_id', key='invoice_lines.invoice_id') }}
    {% endif %}

)

select * from final
