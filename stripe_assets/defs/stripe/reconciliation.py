"""Reconciliation identities on the raw layer: Stripe's objects must agree with each other.

- `balance_transactions_match_sources`: the balance transaction of every charge carries the
  charge's amount, that of every refund minus the refund's amount (converted at the
  transaction's `exchange_rate` when the account settles in another currency than the source's,
  to within a minor unit or a hundred-thousandth), and every balance transaction a dispute lists
  exists with the amount the dispute shows;
- `totals_match_lines` on invoices: an invoice's subtotal is the sum of its line amounts.

Both are blocking: revenue_daily and the invoice facts are built from these tables, and a money
figure that disagrees with its own ledger must not reach them. A failure names the objects.
(The third identity, the MRR bridge, is the dbt test `assert_mrr_movements_bridge_closes`, an
asset check on `analytics/mrr_movements`.)
"""

from collections.abc import Callable, Iterator

import dagster as dg

from .assets import raw_key
from .currencies import minor_units_sql
from .warehouse import MissingColumn, MissingRelation, Warehouse

SAMPLE_SIZE = 20  # offending ids listed in a failed check's metadata

BALANCE_CHECK = "balance_transactions_match_sources"
INVOICE_CHECK = "totals_match_lines"


def sample_ids(warehouse: Warehouse, sql: str) -> list[str]:
    """The first offending ids a query finds; none when a table was never synced (left out of
    STRIPE_RESOURCES: nothing to check). A column the query reads that raw lacks raises
    MissingColumn (see `guarded`)."""
    try:
        return [row[0] for row in warehouse.rows(f"{sql} order by 1 limit {SAMPLE_SIZE}")]
    except MissingRelation:
        return []


def _disagrees(warehouse: Warehouse, amount: str, currency: str) -> str:
    """SQL: the balance transaction `bt` does not hold `amount` (minor units of `currency`): as
    is, or converted at its `exchange_rate` into its own currency, as Stripe converts a charge in
    another currency than the account settles in; Stripe shows the rate rounded, so a converted
    amount may be off by a minor unit, or a hundred-thousandth of a large one."""
    # in double precision on every engine: PostgreSQL divides integers as integers
    converted = (
        f"round(cast({amount} as {warehouse.double_type}) / {minor_units_sql(currency)} "
        f"* bt.exchange_rate * {minor_units_sql('bt.currency')})"
    )
    return (
        "not coalesce(case "
        f"when bt.exchange_rate is null or lower(bt.currency) = lower({currency}) "
        f"then bt.amount = {amount} "
        f"else abs(bt.amount - {converted}) <= greatest(1, abs(bt.amount) / 100000.0) "
        "end, false)"
    )


def _balance_mismatches(warehouse: Warehouse) -> dict:
    transactions = warehouse.raw("balance_transactions")
    charges, refunds = warehouse.raw("charges"), warehouse.raw("refunds")
    disputes = warehouse.raw("disputes")
    listed_id = warehouse.json_text("listed.transaction", "id")
    listed_amount = warehouse.json_text("listed.transaction", "amount")
    return {
        "charge_ids": sample_ids(
            warehouse,
            f"select charges.id from {charges} as charges "
            f"left join {transactions} as bt on charges.balance_transaction = bt.id "
            "where charges.balance_transaction is not null "
            f"and {_disagrees(warehouse, 'charges.amount', 'charges.currency')}",
        ),
        "refund_ids": sample_ids(
            warehouse,
            f"select refunds.id from {refunds} as refunds "
            f"left join {transactions} as bt on refunds.balance_transaction = bt.id "
            "where refunds.balance_transaction is not null "
            f"and {_disagrees(warehouse, '-refunds.amount', 'refunds.currency')}",
        ),
        "dispute_ids": sample_ids(
            warehouse,
            "select distinct listed.dispute_id from ("
            "  select id as dispute_id,"
            f"    {warehouse.json_elements('balance_transactions')} as transaction"
            f"  from {disputes}"
            ") as listed "
            f"left join {transactions} as bt on {listed_id} = bt.id "
            f"where bt.amount is distinct from cast({listed_amount} as bigint)",
        ),
    }


def _invoice_mismatches(warehouse: Warehouse) -> list[str]:
    return sample_ids(
        warehouse,
        f"select invoices.id from {warehouse.raw('invoices')} as invoices "
        "left join ("
        "  select invoice, sum(amount) as lines_amount"
        f"  from {warehouse.raw('invoice_line_items')} group by invoice"
        ") as lines on lines.invoice = invoices.id "
        "where not invoices.is_deleted "
        "and invoices.subtotal is distinct from coalesce(lines.lines_amount, 0)",
    )


RECONCILIATION_SPECS = [
    dg.AssetCheckSpec(
        BALANCE_CHECK,
        asset=raw_key("balance_transactions"),
        additional_deps=[raw_key(t) for t in ("charges", "refunds", "disputes")],
        blocking=True,
        description="Balance transactions carry the amounts of the charges, refunds and disputes "
        "they record.",
    ),
    dg.AssetCheckSpec(
        INVOICE_CHECK,
        asset=raw_key("invoices"),
        additional_deps=[raw_key("invoice_line_items")],
        blocking=True,
        description="Every invoice's subtotal is the sum of its line amounts.",
    ),
]


def _balance_result(warehouse: Warehouse) -> dg.AssetCheckResult:
    mismatches = _balance_mismatches(warehouse)
    wrong = {kind: ids for kind, ids in mismatches.items() if ids}
    return dg.AssetCheckResult(
        asset_key=raw_key("balance_transactions"),
        check_name=BALANCE_CHECK,
        passed=not wrong,
        description="; ".join(
            f"{kind.removesuffix('_ids')}s whose balance transaction disagrees: " + ", ".join(ids)
            for kind, ids in wrong.items()
        )
        or None,
        metadata={f"mismatched_{kind}": ids for kind, ids in mismatches.items()},
    )


def _invoice_result(warehouse: Warehouse) -> dg.AssetCheckResult:
    invoices = _invoice_mismatches(warehouse)
    return dg.AssetCheckResult(
        asset_key=raw_key("invoices"),
        check_name=INVOICE_CHECK,
        passed=not invoices,
        description="Invoices whose subtotal is not the sum of their lines: " + ", ".join(invoices)
        if invoices
        else None,
        metadata={"mismatched_invoice_ids": invoices},
    )


# check → (the tables it reads, how it is evaluated)
RECONCILIATIONS = {
    dg.AssetCheckKey(raw_key("balance_transactions"), BALANCE_CHECK): (
        "charges, refunds and disputes",
        _balance_result,
    ),
    dg.AssetCheckKey(raw_key("invoices"), INVOICE_CHECK): (
        "invoices and invoice_line_items",
        _invoice_result,
    ),
}


def guarded(
    key: dg.AssetCheckKey, tables: str, evaluate: Callable[..., dg.AssetCheckResult], *arguments
) -> dg.AssetCheckResult:
    """A check's result, or, when raw lacks a column it reads, its failure in one sentence: the
    checks after it still run."""
    try:
        return evaluate(*arguments)
    except MissingColumn as column:
        return dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=False,
            description=f"Raw {tables} has no column `{column}`, which this check reads: the "
            "objects synced so far lack that field, so the check fails until a sync brings it; "
            "leave the table out of STRIPE_RESOURCES to do without it.",
            metadata={"missing_column": str(column)},
        )


def reconcile(
    warehouse: Warehouse, selected: set[dg.AssetCheckKey]
) -> Iterator[dg.AssetCheckResult]:
    for key, (tables, evaluate) in RECONCILIATIONS.items():
        if key in selected:
            yield guarded(key, tables, evaluate, warehouse)
