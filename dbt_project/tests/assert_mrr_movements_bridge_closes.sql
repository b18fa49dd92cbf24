{{ config(meta={"dagster": {"ref": {"name": "mrr_movements"}}}) }}

-- The MRR bridge closes: every month's movements lead from its starting MRR to its ending
-- MRR, each ending is the next month's starting, and the ending is mrr_monthly's figure.
with

movements as (

    select * from {{ ref('mrr_movements') }}

),

mrr_monthly as (

    select * from {{ ref('mrr_monthly') }}

)

select
    movements.month,
    movements.currency,
    'identity' as failure
from movements
where ending_mrr_minor != starting_mrr_minor + new_mrr_minor + expansion_mrr_minor
    - contraction_mrr_minor - churned_mrr_minor + reactivation_mrr_minor

union all

select
    movements.month,
    movements.currency,
    'starting is not the previous ending' as failure
from movements
left join movements as previous
    on movements.currency = previous.currency
    and movements.month = cast({{ dbt.dateadd('month', 1, 'previous.month') }} as date)
where movements.starting_mrr_minor != coalesce(previous.ending_mrr_minor, 0)

union all

select
    movements.month,
    movements.currency,
    'ending differs from mrr_monthly' as failure
from movements
full outer join mrr_monthly
    on movements.month = mrr_monthly.month
    and movements.currency = mrr_monthly.currency
where coalesce(movements.ending_mrr_minor, -1) != coalesce(mrr_monthly.mrr_minor, 0)
