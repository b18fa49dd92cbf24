"""The revenue report as an asset: the marts drawn into one HTML file, rebuilt whenever they are.

The file sits beside the warehouse (`reports/revenue_report.html`, next to `logs/`), so each
warehouse has its own; its materialization links to it, and `make run` prints where it is.
"""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from stripe_assets.defs.dbt.metadata import MARTS
from stripe_assets.defs.stripe.assets import WAREHOUSE_POOL
from stripe_assets.defs.stripe.resources import StorageResource
from stripe_assets.defs.stripe.warehouse import MissingRelation, Warehouse

from .render import MARTS as DRAWN_MARTS
from .render import ReportData, render_report

REVENUE_REPORT = dg.AssetKey(["reports", "revenue_report"])


def report_path(duckdb_path: str | Path) -> Path:
    return Path(duckdb_path).parent / "reports" / "revenue_report.html"


@dg.asset(
    key=REVENUE_REPORT,
    deps=[dg.AssetKey([MARTS, name]) for name in DRAWN_MARTS],
    group_name="reports",
    kinds={"html"},
    pool=WAREHOUSE_POOL,
    automation_condition=dg.AutomationCondition.eager(),
    description="MRR by month, the MRR bridge, churn, NRR and GRR, cohort retention and daily "
    "revenue, per currency in its major units: one self-contained HTML file.",
)
def revenue_report(storage: StorageResource) -> dg.MaterializeResult:
    with storage.connect() as warehouse:
        rows = {name: _rows(warehouse, name) for name in DRAWN_MARTS}
    path = report_path(storage.duckdb_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = path.with_suffix(".html.partial")  # renamed whole: a reader never sees half
    written.write_text(render_report(ReportData(generated_at=datetime.now(UTC), **rows)))
    written.replace(path)
    currencies = sorted({row["currency"] for row in rows["mrr_monthly"]})
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "open": dg.MetadataValue.url(path.as_uri()),
            "currencies": ", ".join(currencies) or "none yet",
        }
    )


def _rows(warehouse: Warehouse, mart: str) -> list[dict]:
    """A mart's rows as dicts; none when dbt has not built it yet."""
    try:
        return warehouse.records(f"select * from {warehouse.relation(MARTS, mart)}")
    except MissingRelation:
        return []
