"""The revenue report as one self-contained HTML file, drawn from rows of the dbt marts.

Pure: no warehouse and no Dagster here. The caller reads the marts and passes their rows; this
module only draws them. Everything is inline (CSS in a <style>, charts as <svg>), because the
report is opened from disk on machines without internet: nothing is fetched, no script runs.
Amounts are never summed or converted across currencies, so every chart and table sits in one
section per currency, sections sorted by currency code.

What a browser test can count:
- one <section class="currency" data-currency="usd"> per currency;
- in it, six chart roots <figure data-chart="..." data-currency="usd">, data-chart one of mrr,
  bridge, churn, retention, cohort, daily; an empty one has class "no-data" and says
  "No data yet";
- in a chart, each series of real data is an element of class "series" with data-series (the
  mart column it draws) and data-points (how many values it draws: its rows whose value is not
  null); its marks are that many elements of class "point" (<circle>; <td> in the cohort table)
  or "bar" (<rect>), with the class "incomplete" too when they stand for the month in progress;
- after the bridge chart, <table data-table="bridge" data-currency="usd">, one body row a month.
"""

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html import escape
from itertools import pairwise
from typing import Any

from stripe_assets.defs.stripe.currencies import format_amount, major_units

Row = dict[str, Any]

NO_DATA = "No data yet"
EMPTY_REPORT = f'<p class="no-data">{NO_DATA}</p>'


@dataclass(frozen=True)
class ReportData:
    """The marts' rows as read from the warehouse: one dict per row, keyed by column name.

    A naive `generated_at` is taken to be UTC."""

    generated_at: datetime
    mrr_monthly: list[Row] = field(default_factory=list)
    mrr_movements: list[Row] = field(default_factory=list)
    saas_kpis_monthly: list[Row] = field(default_factory=list)
    cohort_retention: list[Row] = field(default_factory=list)
    revenue_daily: list[Row] = field(default_factory=list)
    title: str = "Stripe revenue report"


# The marts and the columns that order their rows within a currency.
MARTS = {
    "mrr_monthly": ("month",),
    "mrr_movements": ("month",),
    "saas_kpis_monthly": ("month",),
    "cohort_retention": ("cohort_month", "months_since_signup"),
    "revenue_daily": ("day",),
}


def format_money(amount_minor: int, currency: str) -> str:
    """An amount as people read it, code first: "USD 1,234.56", "JPY 5,000". The minus sign
    leads ("-USD 12.00") so that a column of figures shows its signs at its left edge."""
    sign = "-" if amount_minor < 0 else ""
    return f"{sign}{currency.upper()} {format_amount(abs(amount_minor), currency)}"


def _percent(ratio: Any, decimals: int = 1) -> str:
    return f"{float(ratio) * 100:.{decimals}f}%"


# --- the data drawn -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Point:
    at: date
    value: float | None  # None (a null in the mart) is drawn as a gap, never as zero
    text: str  # the value as people read it, shown on hover
    complete: bool  # False for the month in progress: its figures are so far, not final


@dataclass(frozen=True)
class _Series:
    column: str  # the mart column drawn, the series' data-series
    label: str
    colour: str
    points: list[_Point]

    @property
    def drawn(self) -> list[_Point]:
        return [point for point in self.points if point.value is not None]


Measure = Callable[[Any], tuple[float, str]]


def _as_money(currency: str, sign: int = 1) -> Measure:
    """Minor units drawn in major units, so a chart's axis reads like the bridge table; `sign`
    -1 draws an amount the mart stores positive but that removes MRR (contraction, churn)."""

    def measure(amount_minor: Any) -> tuple[float, str]:
        amount = sign * amount_minor
        return float(major_units(amount, currency)), format_money(amount, currency)

    return measure


def _as_percent(ratio: Any) -> tuple[float, str]:
    return float(ratio) * 100, _percent(ratio)


def _complete(row: Row) -> bool:
    """Marts without is_complete_month (revenue_daily) have no month in progress to mark."""
    return bool(row.get("is_complete_month", True))


def _series(
    column: str, label: str, colour: str, rows: list[Row], at: str, measure: Measure
) -> _Series:
    def point(row: Row) -> _Point:
        value, text = (None, "") if row[column] is None else measure(row[column])
        return _Point(row[at], value, text, _complete(row))

    return _Series(column, label, colour, [point(row) for row in rows])


# --- geometry -------------------------------------------------------------------------------

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 80, 40, 12, 30
X_LABELS = 8


@dataclass(frozen=True)
class _Axis:
    """How an x axis places dates: one evenly spaced slot per month or per day, so a month or
    day without a row shows as a gap rather than closing up."""

    slot: Callable[[date], int]
    label: Callable[[date], str]


def _month_slot(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_label(day: date) -> str:
    return f"{day:%Y-%m}"


MONTHS = _Axis(slot=_month_slot, label=_month_label)
DAYS = _Axis(slot=date.toordinal, label=date.isoformat)


def _nice_ticks(low: float, high: float, steps: int = 4) -> list[float]:
    """Gridline values from at most `low` to at least `high`, a step of 1, 2 or 5 × 10ⁿ apart,
    so that an axis reads 0, 500, 1,000 rather than 0, 437, 874."""
    if high == low:
        high = low + 1
    raw = (high - low) / steps
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.floor(low / step), math.ceil(high / step) + 1)]


def _tick_label(value: float, step: float, suffix: str) -> str:
    decimals = max(0, -math.floor(math.log10(step)))
    return f"{round(value, decimals) + 0.0:,.{decimals}f}{suffix}"  # + 0.0: no "-0"


@dataclass(frozen=True)
class _Plot:
    """The drawing area of one chart, in viewBox units. The y axis always includes zero, so
    that a bar's or a line's height is its size, not its distance from an arbitrary floor."""

    first_slot: int
    slots: int
    ticks: list[float]

    @classmethod
    def fitting(cls, slots: list[int], values: list[float]) -> "_Plot":
        ticks = _nice_ticks(min(0.0, *values), max(0.0, *values))
        return cls(min(slots), max(slots) - min(slots) + 1, ticks)

    @property
    def slot_width(self) -> float:
        return (WIDTH - LEFT - RIGHT) / self.slots

    def x(self, slot: int) -> float:
        return LEFT + (slot - self.first_slot + 0.5) * self.slot_width

    def y(self, value: float) -> float:
        low, high = self.ticks[0], self.ticks[-1]
        return TOP + (high - value) / (high - low) * (HEIGHT - TOP - BOTTOM)


def _svg(label: str, plot: _Plot, axis: _Axis, dates: list[date], suffix: str, body: str) -> str:
    """The chart's frame around `body`: y gridlines with their values (zero stronger) and a
    few x labels, in a viewBox so that the chart takes its container's width."""
    step = plot.ticks[1] - plot.ticks[0]
    grid = "".join(
        f'<line class="grid{" zero" if tick == 0 else ""}" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
        f'y1="{plot.y(tick):.1f}" y2="{plot.y(tick):.1f}"/>'
        f'<text class="tick" x="{LEFT - 8}" y="{plot.y(tick) + 4:.1f}" text-anchor="end">'
        f"{escape(_tick_label(tick, step, suffix))}</text>"
        for tick in plot.ticks
    )
    shown = sorted(set(dates))
    x_labels = "".join(
        f'<text class="tick" x="{plot.x(axis.slot(day)):.1f}" y="{HEIGHT - 8}" '
        f'text-anchor="middle">{escape(axis.label(day))}</text>'
        for day in shown[:: math.ceil(len(shown) / X_LABELS)]
    )
    return (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}">'
        f"{grid}{x_labels}{body}</svg>"
    )


def _mark_class(kind: str, complete: bool) -> str:
    return kind if complete else f"{kind} incomplete"


def _tooltip(axis: _Axis, point: _Point) -> str:
    return f"<title>{escape(axis.label(point.at))}: {escape(point.text)}</title>"


def _series_group(series: _Series, marks: str) -> str:
    return (
        f'<g class="series" data-series="{escape(series.column)}" '
        f'data-points="{len(series.drawn)}" fill="{series.colour}" stroke="{series.colour}">'
        f"{marks}</g>"
    )


def _figure(chart: str, currency: str, caption: str, series: list[_Series], content: str) -> str:
    legend = "".join(
        f'<li><span class="swatch" style="background:{s.colour}"></span>{escape(s.label)}</li>'
        for s in series
    )
    return (
        f'<figure class="chart" data-chart="{chart}" data-currency="{escape(currency)}">'
        f'<ul class="legend">{legend}</ul>{content}'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _no_data(chart: str, currency: str) -> str:
    """Stands in for a chart with nothing to draw, keeping its data-chart root in place so a
    section always has the same six."""
    return (
        f'<figure class="chart no-data" data-chart="{chart}" data-currency="{escape(currency)}">'
        f"<p>{NO_DATA}</p></figure>"
    )


# --- the charts -----------------------------------------------------------------------------


def _line(plot: _Plot, axis: _Axis, series: _Series) -> str:
    """One series as a line through its points. A null breaks the line; the segment into the
    month in progress is dashed and its point hollow, since a month so far is no month."""

    def xy(point: _Point) -> tuple[float, float]:
        return plot.x(axis.slot(point.at)), plot.y(point.value)

    solid, dashed = [], []
    for a, b in pairwise(series.points):
        if a.value is not None and b.value is not None:
            (ax, ay), (bx, by) = xy(a), xy(b)
            segments = solid if a.complete and b.complete else dashed
            segments.append(f"M{ax:.1f} {ay:.1f}L{bx:.1f} {by:.1f}")
    paths = "".join(
        f'<path class="{kind}" d="{"".join(segments)}"/>'
        for kind, segments in (("line", solid), ("line incomplete", dashed))
        if segments
    )
    radius = max(1.2, min(3.5, plot.slot_width / 3))
    marks = "".join(
        f'<circle class="{_mark_class("point", point.complete)}" cx="{x:.1f}" cy="{y:.1f}" '
        f'r="{radius:.1f}">{_tooltip(axis, point)}</circle>'
        for point, (x, y) in ((point, xy(point)) for point in series.drawn)
    )
    return _series_group(series, paths + marks)


def _line_chart(
    chart: str, currency: str, caption: str, axis: _Axis, series: list[_Series], suffix: str = ""
) -> str:
    """The one line chart, shared by MRR, churn, retention and daily revenue."""
    drawn = [point for s in series for point in s.drawn]
    if not drawn:
        return _no_data(chart, currency)
    plot = _Plot.fitting([axis.slot(p.at) for p in drawn], [p.value for p in drawn])
    body = "".join(_line(plot, axis, s) for s in series)
    svg = _svg(caption, plot, axis, [p.at for p in drawn], suffix, body)
    return _figure(chart, currency, caption, series, svg)


def _stack(series: list[_Series]) -> list[list[tuple[_Point, float, float]]]:
    """Each point's span in its slot's bar: positive values stack upwards from zero and
    negative ones downwards, in series order, so a bar shows above the axis what added and
    below it what removed."""
    tops: dict[date, float] = defaultdict(float)
    bottoms: dict[date, float] = defaultdict(float)
    stacked = []
    for s in series:
        spans = []
        for point in s.drawn:
            ends = tops if point.value >= 0 else bottoms
            start = ends[point.at]
            ends[point.at] = start + point.value
            spans.append((point, start, start + point.value))
        stacked.append(spans)
    return stacked


def _bars(
    plot: _Plot, axis: _Axis, series: _Series, spans: list[tuple[_Point, float, float]]
) -> str:
    """One series' spans of the stacked bars, a rect per point (zero-high for a zero)."""
    width = min(plot.slot_width * 0.6, 64)
    return _series_group(
        series,
        "".join(
            f'<rect class="{_mark_class("bar", point.complete)}" '
            f'x="{plot.x(axis.slot(point.at)) - width / 2:.1f}" '
            f'y="{min(plot.y(start), plot.y(stop)):.1f}" width="{width:.1f}" '
            f'height="{abs(plot.y(start) - plot.y(stop)):.1f}">{_tooltip(axis, point)}</rect>'
            for point, start, stop in spans
        ),
    )


def _bar_chart(chart: str, currency: str, caption: str, axis: _Axis, series: list[_Series]) -> str:
    """Stacked, diverging bars: one bar per slot, a coloured span per series."""
    stacked = _stack(series)
    spans = [span for spans in stacked for span in spans]
    if not spans:
        return _no_data(chart, currency)
    plot = _Plot.fitting(
        [axis.slot(point.at) for point, _, _ in spans],
        [end for _, start, stop in spans for end in (start, stop)],
    )
    body = "".join(
        _bars(plot, axis, s, s_spans) for s, s_spans in zip(series, stacked, strict=True)
    )
    svg = _svg(caption, plot, axis, [point.at for point, _, _ in spans], "", body)
    return _figure(chart, currency, caption, series, svg)


def _mrr_chart(currency: str, rows: list[Row]) -> str:
    caption = (
        f"MRR at each month's end, in {currency.upper()}; the month in progress (dashed, "
        "hollow point) is MRR so far."
    )
    mrr = _series("mrr_minor", "MRR", "#2563eb", rows, "month", _as_money(currency))
    return _line_chart("mrr", currency, caption, MONTHS, [mrr])


# The bridge's movements in the order they stack; the mart stores contraction and churn as
# positive amounts that the bridge subtracts, hence the sign.
BRIDGE_MOVEMENTS = (
    ("new_mrr_minor", "New", "#15803d", 1),
    ("expansion_mrr_minor", "Expansion", "#4ade80", 1),
    ("reactivation_mrr_minor", "Reactivation", "#0ea5e9", 1),
    ("contraction_mrr_minor", "Contraction", "#f97316", -1),
    ("churned_mrr_minor", "Churned", "#dc2626", -1),
)


def _bridge_chart(currency: str, rows: list[Row]) -> str:
    caption = (
        f"What moved MRR each month, in {currency.upper()}: new, expansion and reactivation "
        "add (above zero), contraction and churn remove (below); faded: the month in progress."
    )
    series = [
        _series(column, label, colour, rows, "month", _as_money(currency, sign))
        for column, label, colour, sign in BRIDGE_MOVEMENTS
    ]
    return _bar_chart("bridge", currency, caption, MONTHS, series)


def _money_cell(amount_minor: Any, currency: str, sign: int = 1) -> str:
    text = "–" if amount_minor is None else format_money(sign * amount_minor, currency)
    return f"<td>{escape(text)}</td>"


def _bridge_table(currency: str, rows: list[Row]) -> str:
    """The bridge's figures, each row adding up: starting + every movement = ending
    (contraction and churn shown negative)."""
    if not rows:
        return ""
    header = "".join(
        f"<th>{label}</th>"
        for label in ("Month", "Starting", *(m[1] for m in BRIDGE_MOVEMENTS), "Ending")
    )
    body = "".join(
        f"<tr><th>{escape(_month_label(row['month']))}"
        f"{'' if _complete(row) else ' (in progress)'}</th>"
        f"{_money_cell(row['starting_mrr_minor'], currency)}"
        + "".join(
            _money_cell(row[column], currency, sign) for column, _, _, sign in BRIDGE_MOVEMENTS
        )
        + _money_cell(row["ending_mrr_minor"], currency)
        + "</tr>"
        for row in rows
    )
    return (
        f'<table class="bridge-table" data-table="bridge" data-currency="{escape(currency)}">'
        f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"
    )


def _churn_chart(currency: str, rows: list[Row]) -> str:
    caption = (
        "Share of customers (logo) and of starting MRR (revenue) lost in each complete month; "
        "the month in progress has no rate yet."
    )
    series = [
        _series("logo_churn_rate", "Logo churn", "#dc2626", rows, "month", _as_percent),
        _series("revenue_churn_rate", "Revenue churn", "#f97316", rows, "month", _as_percent),
    ]
    return _line_chart("churn", currency, caption, MONTHS, series, "%")


def _retention_chart(currency: str, rows: list[Row]) -> str:
    caption = (
        "Starting MRR still there at the month's end, with expansion (NRR) and without it "
        "(GRR); complete months only."
    )
    series = [
        _series("net_revenue_retention", "NRR", "#7c3aed", rows, "month", _as_percent),
        _series("gross_revenue_retention", "GRR", "#0d9488", rows, "month", _as_percent),
    ]
    return _line_chart("retention", currency, caption, MONTHS, series, "%")


def _shade(rate: Any) -> str:
    """A heat-map cell's style: from pale (0%) to deep blue (100%), white text when dark."""
    share = min(max(float(rate), 0.0), 1.0)
    pale, deep = (241, 245, 249), (29, 78, 216)
    rgb = ",".join(str(round(p + (d - p) * share)) for p, d in zip(pale, deep, strict=True))
    return f"background:rgb({rgb});color:{'#fff' if share > 0.55 else '#0f172a'}"


def _cohort_cell(row: Row | None) -> str:
    if row is None or row["retention_rate"] is None:
        return '<td class="blank"></td>'
    tip = f"{row['retained_customers']} of {row['customers']} customers"
    return (
        f'<td class="{_mark_class("point", _complete(row))}" '
        f'style="{_shade(row["retention_rate"])}" title="{escape(tip)}">'
        f"{_percent(row['retention_rate'], 0)}</td>"
    )


def _cohort_heatmap(currency: str, rows: list[Row]) -> str:
    """Rows are signup months, columns months since signup, each cell the share of the
    cohort still paying, shaded by it; a cohort's row ends at the current month."""
    points = sum(row["retention_rate"] is not None for row in rows)
    if not points:
        return _no_data("cohort", currency)
    cohorts: dict[date, dict[int, Row]] = defaultdict(dict)
    for row in rows:
        cohorts[row["cohort_month"]][row["months_since_signup"]] = row
    ages = range(max(row["months_since_signup"] for row in rows) + 1)
    header = "<th>Cohort</th><th>Customers</th>" + "".join(f"<th>{age}</th>" for age in ages)
    body = "".join(
        f"<tr><th>{escape(_month_label(cohort))}</th>"
        f"<td>{escape(str(next(iter(cells.values()))['customers']))}</td>"
        + "".join(_cohort_cell(cells.get(age)) for age in ages)
        + "</tr>"
        for cohort, cells in cohorts.items()
    )
    caption = (
        "Share of each signup month's customers still paying k months later "
        "(columns: k, months since signup)."
    )
    return (
        f'<figure class="chart" data-chart="cohort" data-currency="{escape(currency)}">'
        f'<table class="cohort"><thead><tr>{header}</tr></thead>'
        f'<tbody class="series" data-series="retention_rate" data-points="{points}">{body}'
        f"</tbody></table><figcaption>{escape(caption)}</figcaption></figure>"
    )


def _daily_chart(currency: str, rows: list[Row]) -> str:
    caption = (
        f"Gross charges and net (after refunds, dispute losses and fees) per UTC day, "
        f"in {currency.upper()}."
    )
    series = [
        _series("gross_charges", "Gross charges", "#94a3b8", rows, "day", _as_money(currency)),
        _series("net", "Net", "#2563eb", rows, "day", _as_money(currency)),
    ]
    return _line_chart("daily", currency, caption, DAYS, series)


# --- the page -------------------------------------------------------------------------------


def _currency_section(currency: str, marts: dict[str, list[Row]]) -> str:
    panels = (
        ("MRR by month", _mrr_chart(currency, marts["mrr_monthly"])),
        (
            "MRR bridge",
            _bridge_chart(currency, marts["mrr_movements"])
            + _bridge_table(currency, marts["mrr_movements"]),
        ),
        ("Churn", _churn_chart(currency, marts["saas_kpis_monthly"])),
        ("Net and gross revenue retention", _retention_chart(currency, marts["saas_kpis_monthly"])),
        ("Cohort retention", _cohort_heatmap(currency, marts["cohort_retention"])),
        ("Daily revenue", _daily_chart(currency, marts["revenue_daily"])),
    )
    code = escape(currency)
    return (
        f'<section class="currency" id="currency-{code}" data-currency="{code}">'
        f"<h2>{escape(currency.upper())}</h2>"
        + "".join(
            f'<article class="panel"><h3>{title}</h3>{html}</article>' for title, html in panels
        )
        + "</section>"
    )


def _by_currency(rows: list[Row], order: tuple[str, ...]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in sorted(rows, key=lambda row: tuple(row[column] for column in order)):
        grouped[str(row["currency"]).lower()].append(row)
    return grouped


def _utc(moment: datetime) -> str:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"{aware:%Y-%m-%d %H:%M:%S} UTC"


# What the charts need wherever they are drawn: in the page, or alone (`mrr_chart_svg`).
CHART_CSS = """
.grid { stroke: #e2e8f0; }
.grid.zero { stroke: #94a3b8; }
.tick { font-size: 12px; fill: #64748b; stroke: none; }
.line { fill: none; stroke-width: 2; }
.line.incomplete { stroke-dasharray: 5 4; }
.point { stroke-width: 1.5; }
circle.point.incomplete { fill: #fff; }
.bar { stroke: none; }
.bar.incomplete { fill-opacity: 0.4; }
"""
CSS = (
    CHART_CSS
    + """
body { margin: 0 auto; max-width: 1100px; padding: 24px; background: #f8fafc; color: #0f172a;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { border-bottom: 1px solid #e2e8f0; margin-bottom: 16px; }
h1 { font-size: 22px; margin: 0 0 4px; }
.meta { color: #475569; margin: 0 0 8px; }
nav a { margin-right: 12px; }
h2 { font-size: 18px; border-bottom: 2px solid #0f172a; padding-bottom: 4px; margin-top: 32px; }
.panel { background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: 12px 16px;
         margin: 12px 0; overflow-x: auto; }
h3 { font-size: 15px; margin: 0 0 6px; }
figure { margin: 0; }
svg { display: block; width: 100%; height: auto; }
figcaption { color: #64748b; font-size: 12px; margin-top: 4px; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; list-style: none; padding: 0;
          margin: 0 0 4px; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
          margin-right: 4px; }
table { border-collapse: collapse; font-size: 12px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; text-align: right; white-space: nowrap; }
thead th { border-bottom: 1px solid #cbd5e1; }
thead th:first-child { text-align: left; }
tbody th { text-align: left; font-weight: normal; }
.bridge-table { margin-top: 12px; }
.bridge-table td:last-child { font-weight: 600; }
.cohort td.point { min-width: 40px; text-align: center; }
.cohort td.point.incomplete { font-style: italic; }
.no-data p, p.no-data { color: #64748b; font-style: italic; }
"""
)


def mrr_chart_svg(currency: str, rows: list[Row]) -> str:
    """The MRR-by-month chart of `currency` alone, as an SVG document for an <img> (the UI's
    markdown metadata shows it so): with the namespace and the chart's styles, which the
    report's page otherwise supplies."""
    figure = _mrr_chart(currency, _by_currency(rows, ("month",)).get(currency, []))
    svg = figure[figure.index("<svg") : figure.index("</svg>") + len("</svg>")]
    opened = svg.index(">") + 1
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="960" height="260"'
        + svg[len("<svg") : opened]
        + f"<style>{CHART_CSS}</style>"
        + svg[opened:]
    )


def render_report(data: ReportData) -> str:
    """The whole report as one HTML document: a header, then one section per currency."""
    marts = {name: _by_currency(getattr(data, name), order) for name, order in MARTS.items()}
    currencies = sorted(set().union(*marts.values()))
    sections = "".join(
        _currency_section(currency, {name: rows.get(currency, []) for name, rows in marts.items()})
        for currency in currencies
    )
    nav = "".join(
        f'<a href="#currency-{escape(currency)}">{escape(currency.upper())}</a>'
        for currency in currencies
    )
    title = escape(data.title)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{title}</h1><p class="meta">Generated {_utc(data.generated_at)} · '
        "amounts in each currency's major units; never converted</p>"
        f"<nav>{nav}</nav></header>"
        f"<main>{sections or EMPTY_REPORT}</main></body></html>\n"
    )
