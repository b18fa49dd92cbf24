{#-
    The trial funnel per signup cohort month: customers who signed up, those who started a
    trial, those whose trial turned into a paid subscription (it went on to count toward
    MRR), and those converted customers still paying at the end of the third month after
    their signup month (null until that month has ended).
-#}

with

customers as (

    select * from {{ ref('dim_customers') }}

),

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

counted_periods as (

    select * from {{ ref('int_subscription_counted_periods') }}

),

fct_mrr as (

    select * from {{ ref('fct_mrr') }}
    where mrr_numerator > 0

),

trials as (

    select
        subscriptions.customer_id,
        bool_or(counted_periods.subscription_id is not null) as converted
    from subscriptions
    left join counted_periods
        on subscriptions.subscription_id = counted_periods.subscription_id
    where subscriptions.trial_start_at is not null
    group by subscriptions.customer_id

),

cohort_members as (

    select
        customers.customer_id,
        {{ utc_month('customers.signed_up_at') }} as cohort_month,
        trials.customer_id is not null as started_trial,
        coalesce(trials.converted, false) as converted
    from customers
    left join trials
        on customers.customer_id = trials.customer_id
    where customers.signed_up_at is not null

),

retained as (

    select distinct
        cohort_members.customer_id
    from cohort_members
    inner join fct_mrr
        on cohort_members.customer_id = fct_mrr.customer_id
        and fct_mrr.month = cast({{ dbt.dateadd('month', 3, 'cohort_members.cohort_month') }} as date)
    where cohort_members.converted

),

final as (

    select
        cohort_members.cohort_month,
        cast(count(*) as bigint) as signups,
        cast(count(*) filter (where cohort_members.started_trial) as bigint) as trials,
        cast(count(*) filter (where cohort_members.converted) as bigint) as converted_to_paid,
        case
            when cast({{ dbt.dateadd('month', 3, 'cohort_members.cohort_month') }} as date)
                < {{ current_month() }}
                then cast(count(retained.customer_id) as bigint)
        end as retained_after_3_months,
        {{ ratio('count(*) filter (where cohort_members.started_trial)', 'count(*)') }}
            as trial_rate,
        {{ ratio(
            'count(*) filter (where cohort_members.converted)',
            'count(*) filter (where cohort_members.started_trial)'
        ) }} as trial_conversion_rate
    from cohort_members
    left join retained
        on cohort_members.customer_id = retained.customer_id
    group by cohort_members.cohort_month

)

select * from final
