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

import re
from collections.abc import Callable, Iterator

import dagster as dg
import duckdb

from .assets import raw_key
from .currencies import minor_units_sql
from .resources import StorageResource

SAMPLE_SIZE = 20  # offending ids listed in a failed check's metadata

BALANCE_CHECK = "balance_transactions_match_sources"
INVOICE_CHECK = "totals_match_lines"


class MissingColumn(Exception):
    """A raw table lacks a column a check reads: the account's objects have another shape
    (an older API version, a field Stripe never sent) than the check was written for."""


def sample_ids(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    """The first offending ids a query finds; none when a table was never synced (left out of
    STRIPE_RESOURCES: nothing to check)."""
    try:
        return [row[0] for row in con.execute(f"{sql} order by 1 limit {SAMPLE_SIZE}").fetchall()]
    except duckdb.CatalogException:
        return []
    except duckdb.BinderException as error:
        column = re.search(r'column(?: named)? "([^"]+)"', str(error))
        raise MissingColumn(column.group(1) if column else str(error).splitlines()[0]) from None


def _disagrees(amount: str, currency: str) -> str:
    """SQL: the balance transaction `bt` does not hold `amount` (minor units of `currency`): as
    is, or converted at its `exchange_rate` into its own currency, as Stripe converts a charge in
    another currency than the account settles in; Stripe shows the rate rounded, so a converted
    amount may be off by a minor unit, or a hundred-thousandth of a large one."""
    converted = (
        f"round({amount} / {minor_units_sql(currency)} * bt.exchange_rate "
        f"* {minor_units_sql('bt.currency')})"
    )
    return (
        "not coalesce(case "
        f"when bt.exchange_rate is null or lower(bt.currency) = lower({currency}) "
        f"then bt.amount = {amount} "
        f"else abs(bt.amount - {converted}) <= greatest(1, abs(bt.amount) / 100000) "
        "end, false)"
    )


def _balance_mismatches(con: duckdb.DuckDBPyConnection, storage: StorageResource) -> dict:
    transactions = storage.raw_table("balance_transactions")
    charges, refunds = storage.raw_table("charges"), storage.raw_table("refunds")
    disputes = storage.raw_table("disputes")
    return {
        "charge_ids": sample_ids(
            con,
            f"select charges.id from {charges} as charges "
            f"left join {transactions} as bt on charges.balance_transaction = bt.id "
            "where charges.balance_transaction is not null "
            f"and {_disagrees('charges.amount', 'charges.currency')}",
        ),
        "refund_ids": sample_ids(
            con,
            f"select refunds.id from {refunds} as refunds "
            f"left join {transactions} as bt on refunds.balance_transaction = bt.id "
            "where refunds.balance_transaction is not null "
            f"and {_disagrees('-refunds.amount', 'refunds.currency')}",
        ),
        "dispute_ids": sample_ids(
            con,
            "select distinct listed.dispute_id from ("
            "  select id as dispute_id,"
            "    unnest(json_extract(balance_transactions, '$[*]')) as transaction"
            f"  from {disputes}"
            ") as listed "
            f"left join {transactions} as bt "
            "on json_extract_string(listed.transaction, '$.id') = bt.id "
            "where bt.amount is distinct from "
            "cast(json_extract_string(listed.transaction, '$.amount') as bigint)",
        ),
    }


def _invoice_mismatches(con: duckdb.DuckDBPyConnection, storage: StorageResource) -> list[str]:
    return sample_ids(
        con,
        f"select invoices.id from {storage.raw_table('invoices')} as invoices "
        "left join ("
        "  select invoice, sum(amount) as lines_amount"
        f"  from {storage.raw_table('invoice_line_items')} group by invoice"
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


def _balance_result(
    con: duckdb.DuckDBPyConnection, storage: StorageResource
) -> dg.AssetCheckResult:
    mismatches = _balance_mismatches(con, storage)
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


def _invoice_result(
    con: duckdb.DuckDBPyConnection, storage: StorageResource
) -> dg.AssetCheckResult:
    invoices = _invoice_mismatches(con, storage)
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
    con: duckdb.DuckDBPyConnection, storage: StorageResource, selected: set[dg.AssetCheckKey]
) -> Iterator[dg.AssetCheckResult]:
    for key, (tables, evaluate) in RECONCILIATIONS.items():
        if key in selected:
            yield guarded(key, tables, evaluate, con, storage)
