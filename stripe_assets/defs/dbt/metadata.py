"""What the UI shows on each dbt model's materialization, read from the warehouse after the
build: its columns and the warehouse's types (`dagster/column_schema`), a table's row count
(`dagster/row_count`; a view's would run the view), and on the MRR marts the latest month's MRR
per currency as numbers (which Dagster plots across materializations) with a chart of MRR by
month per currency (an SVG image in markdown, drawn as the revenue report draws it), and the last
12 months of the MRR bridge as a table in major units."""

import base64
from collections.abc import Callable

import dagster as dg

from stripe_assets.defs.report.render import mrr_chart_svg
from stripe_assets.defs.stripe.currencies import format_amount
from stripe_assets.defs.stripe.warehouse import Warehouse

MARTS = "analytics"
PREVIEW_MONTHS = 12


def mrr_monthly_metadata(warehouse: Warehouse) -> dict:
    rows = warehouse.records(
        "select month, currency, mrr_minor, mrr, active_customers, is_complete_month "
        f"from {warehouse.relation(MARTS, 'mrr_monthly')} order by currency"
    )
    latest = max((row["month"] for row in rows), default=None)
    metadata: dict = {"latest_month": f"{latest:%Y-%m}" if latest else "none"}
    for row in rows:
        if row["month"] == latest:
            metadata[f"mrr_{row['currency']}"] = dg.MetadataValue.float(float(row["mrr"]))
            metadata[f"active_customers_{row['currency']}"] = dg.MetadataValue.int(
                row["active_customers"]
            )
    metadata["mrr_by_month"] = dg.MetadataValue.md(_mrr_by_month_charts(rows))
    return metadata


def _mrr_by_month_charts(rows: list[dict]) -> str:
    """Each currency's MRR by month, drawn as the revenue report draws it, as an image."""
    charts = []
    for currency in sorted({row["currency"] for row in rows}):
        svg = base64.b64encode(mrr_chart_svg(currency, rows).encode()).decode()
        alt = f"MRR by month in {currency.upper()}"
        charts.append(f"**{currency.upper()}**\n\n![{alt}](data:image/svg+xml;base64,{svg})")
    return "\n\n".join(charts) or "No MRR yet."


def mrr_movements_metadata(warehouse: Warehouse) -> dict:
    columns = ["starting", "new", "expansion", "contraction", "churned", "reactivation", "ending"]
    movements = warehouse.relation(MARTS, "mrr_movements")
    rows = warehouse.rows(
        "select month, currency, "
        + ", ".join(f"{c}_mrr_minor" for c in columns)
        + f" from {movements} where month > (select max(month) from {movements}) "
        f"- interval '{PREVIEW_MONTHS} months' order by currency, month"
    )
    header = "| month | currency | " + " | ".join(columns) + " |"
    rule = "|---|---|" + "---:|" * len(columns)
    lines = [
        f"| {month:%Y-%m} | {currency.upper()} | "
        + " | ".join(format_amount(amount, currency) for amount in amounts)
        + " |"
        for month, currency, *amounts in rows
    ]
    title = f"MRR bridge, last {PREVIEW_MONTHS} months, in each currency's major units"
    preview = "\n".join([title, "", header, rule, *lines])
    return {"preview": dg.MetadataValue.md(preview)}


MRR_MONTHLY = dg.AssetKey([MARTS, "mrr_monthly"])
MRR_METADATA: dict[dg.AssetKey, Callable[[Warehouse], dict]] = {
    MRR_MONTHLY: mrr_monthly_metadata,
    dg.AssetKey([MARTS, "mrr_movements"]): mrr_movements_metadata,
}


def model_metadata(warehouse: Warehouse, key: dg.AssetKey) -> dict:
    schema, name = key.path
    metadata: dict = {"dagster/column_schema": warehouse.table_schema(schema, name)}
    if warehouse.kind(schema, name) == "BASE TABLE":
        ((rows,),) = warehouse.rows(f"select count(*) from {warehouse.relation(schema, name)}")
        metadata["dagster/row_count"] = rows
    if key in MRR_METADATA:
        metadata |= MRR_METADATA[key](warehouse)
    return metadata
