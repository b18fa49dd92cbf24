with

credit_notes as (

    select * from {{ ref('stg_stripe__credit_notes') }}

),

final as (

    select
        credit_note_id,
        invoice_id,
        customer_id,
        refund_id,
        credit_note_number,
        currency,
        status,
        credit_note_type,
        reason,
        memo,
        amount,
        subtotal,
        total,
        discount_amount,
        pre_payment_amount,
        post_payment_amount,
        amount_major,
        subtotal_major,
        total_major,
        discount_amount_major,
        pre_payment_amount_major,
        post_payment_amount_major,
        refund_count,
        created_at,
        effective_at,
        voided_at
    from credit_notes

)

select * from final
