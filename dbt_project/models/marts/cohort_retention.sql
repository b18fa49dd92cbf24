{#-
    Retention by signup cohort: for customers who signed up in a month (cohort_month), how
    many still pay, and how much MRR they bring, k months later (months_since_signup = k,
    measured at the end of month cohort_month + k). One row per cohort, currency and k up to
    the current month; a customer's currency is the one it is billed in, so MRR never mixes
    currencies. Cohorts count every customer with a known currency, paying or not.
-#}

with

customers as (

    select * from {{ ref('dim_customers') }}

),

fct_mrr as (

    select * from {{ ref('fct_mrr') }}
    where mrr_numerator > 0

),

cohort_members as (

    select
        customer_id,
        currency,
        {{ utc_month('signed_up_at') }} as cohort_month
    from customers
    where currency is not null and signed_up_at is not null

),

cohort_sizes as (

    select
        cohort_month,
        currency,
        count(*) as customers
    from cohort_members
    group by
        cohort_month,
        currency

),

cohort_months as (

    select
        cohort_sizes.cohort_month,
        cohort_sizes.currency,
        cohort_sizes.customers,
        cast(month_start as date) as month,
        {{ dbt.datediff('cohort_sizes.cohort_month', 'cast(month_start as date)', 'month') }}
            as months_since_signup
    from cohort_sizes
    cross join {{ month_spine('cohort_sizes.cohort_month', current_month()) }}

),

retained as (

    select
        cohort_members.cohort_month,
        cohort_members.currency,
        fct_mrr.month,
        count(distinct fct_mrr.customer_id) as retained_customers,
        sum(fct_mrr.mrr_numerator) as retained_mrr_numerator,
        {{ dbt.any_value("fct_mrr.mrr_denominator") }} as mrr_denominator
    from cohort_members
    inner join fct_mrr
        on cohort_members.customer_id = fct_mrr.customer_id
        and cohort_members.currency = fct_mrr.currency
    group by
        cohort_members.cohort_month,
        cohort_members.currency,
        fct_mrr.month

),

final as (

    select
        cohort_months.cohort_month,
        cohort_months.currency,
        cast(cohort_months.months_since_signup as bigint) as months_since_signup,
        cohort_months.month,
        cast(cohort_months.customers as bigint) as customers,
        cast(coalesce(retained.retained_customers, 0) as bigint) as retained_customers,
        {{ ratio('coalesce(retained.retained_customers, 0)', 'cohort_months.customers') }}
            as retention_rate,
        cast(
            coalesce(
                {{ round_fraction_half_up('retained.retained_mrr_numerator', 'retained.mrr_denominator') }},
                0
            ) as bigint
        ) as retained_mrr_minor,
        {{ is_complete_month('cohort_months.month') }} as is_complete_month
    from cohort_months
    left join retained
        on cohort_months.cohort_month = retained.cohort_month
        and cohort_months.currency = retained.currency
        and cohort_months.month = retained.month

)

select * from final
