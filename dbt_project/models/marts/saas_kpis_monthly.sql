{#-
    The SaaS KPIs finance asks for, per month and currency (amounts never mix currencies):
    MRR, ARR, ARPA, customer counts and their movements, churn, retention and LTV.
    Money comes from mrr_movements (so it agrees with the bridge to the minor unit); customer
    counts from fct_mrr summed per customer. Ratios are null when their base is zero, and in
    the current month, which has not ended (is_complete_month): its churn so far is no
    month's churn.
-#}

with

mrr_movements as (

    select * from {{ ref('mrr_movements') }}

),

fct_mrr as (

    select * from {{ ref('fct_mrr') }}

),

customer_months as (

    select
        month,
        currency,
        customer_id,
        sum(mrr_numerator) > 0 as is_paying,
        sum(previous_mrr_numerator) > 0 as was_paying,
        bool_or(movement = 'new') as is_new,
        bool_or(movement = 'reactivation') as is_reactivated
    from fct_mrr
    group by
        month,
        currency,
        customer_id

),

customer_counts as (

    select
        month,
        currency,
        count(*) filter (where is_paying) as active_customers,
        count(*) filter (where was_paying) as starting_customers,
        count(*) filter (where is_new) as new_customers,
        count(*) filter (where is_reactivated) as reactivated_customers,
        count(*) filter (where was_paying and not is_paying) as churned_customers
    from customer_months
    group by
        month,
        currency

),

combined as (

    select
        mrr_movements.*,
        coalesce(customer_counts.active_customers, 0) as active_customers,
        coalesce(customer_counts.starting_customers, 0) as starting_customers,
        coalesce(customer_counts.new_customers, 0) as new_customers,
        coalesce(customer_counts.reactivated_customers, 0) as reactivated_customers,
        coalesce(customer_counts.churned_customers, 0) as churned_customers
    from mrr_movements
    left join customer_counts
        on mrr_movements.month = customer_counts.month
        and mrr_movements.currency = customer_counts.currency

),

rates as (

    select
        *,
        {{ to_major_units('ending_mrr_minor', 'currency') }} as mrr,
        case when is_complete_month then
            {{ ratio('churned_customers', 'starting_customers') }}
        end as logo_churn_rate,
        case when is_complete_month then
            {{ ratio('churned_mrr_minor + contraction_mrr_minor', 'starting_mrr_minor') }}
        end as revenue_churn_rate,
        case when is_complete_month then
            {{ ratio(
                'starting_mrr_minor + expansion_mrr_minor - contraction_mrr_minor'
                ~ ' - churned_mrr_minor',
                'starting_mrr_minor'
            ) }}
        end as net_revenue_retention,
        case when is_complete_month then
            {{ ratio(
                'starting_mrr_minor - contraction_mrr_minor - churned_mrr_minor',
                'starting_mrr_minor'
            ) }}
        end as gross_revenue_retention
    from combined

),

final as (

    select
        month,
        currency,
        ending_mrr_minor as mrr_minor,
        mrr,
        cast(mrr * 12 as decimal(38, 3)) as arr,
        {{ ratio('mrr', 'active_customers') }} as arpa,
        cast(active_customers as bigint) as active_customers,
        cast(starting_customers as bigint) as starting_customers,
        cast(new_customers as bigint) as new_customers,
        cast(reactivated_customers as bigint) as reactivated_customers,
        cast(churned_customers as bigint) as churned_customers,
        logo_churn_rate,
        revenue_churn_rate,
        net_revenue_retention,
        gross_revenue_retention,
        {{ ratio('mrr', 'active_customers') }} / nullif(logo_churn_rate, 0) as ltv,
        is_complete_month
    from rates

)

select * from final
