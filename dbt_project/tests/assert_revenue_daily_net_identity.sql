-- revenue_daily must satisfy net = gross_charges - refunds - dispute_losses - fees on every
-- (day, currency) row. A failure means a non-payout balance transaction falls outside the
-- charge / refund / dispute categories (a new reporting_category to classify).
with

revenue_daily as (

    select * from {{ ref('revenue_daily') }}

),

final as (

    select
        day,
        currency,
        gross_charges,
        refunds,
        dispute_losses,
        fees,
        net,
        gross_charges - refunds - dispute_losses - fees as expected_net
    from revenue_daily
    where net is distinct from gross_charges - refunds - dispute_losses - fees

)

select * from final
