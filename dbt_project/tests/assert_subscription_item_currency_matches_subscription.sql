{{ config(severity='warn') }}

-- MRR is reported in the subscription's currency using the item's price unit_amount.
-- Multi-currency prices (currency_options) would make these differ; flag them.
select
    subscription_item_id,
    valid_from_at,
    subscription_id,
    currency,
    price_currency
from {{ ref('int_subscription_item_versions') }}
where currency is distinct from price_currency
