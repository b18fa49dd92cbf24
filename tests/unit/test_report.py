"""The revenue report is one self-contained HTML file that draws every row it is given, in its
own currency's section and major units, escapes every text, and says "No data yet" rather
than failing when a mart is empty."""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from stripe_assets.defs.report.render import (
    ReportData,
    format_money,
    major_units,
    mrr_chart_svg,
    render_report,
)

GENERATED_AT = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)
JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
CHARTS = ["mrr", "bridge", "churn", "retention", "cohort", "daily"]
MOVEMENTS = ["new", "expansion", "reactivation", "contraction", "churned"]


def mrr_row(month, currency, minor):
    return {
        "month": month,
        "currency": currency,
        "mrr_minor": minor,
        "mrr": major_units(minor, currency),
        "arr": major_units(minor, currency) * 12,
        "active_subscriptions": 3,
        "active_customers": 2,
        "is_complete_month": month != MAR,
    }


def bridge_row(month, currency, starting, new, expansion, reactivation, contraction, churned):
    return {
        "month": month,
        "currency": currency,
        "starting_mrr_minor": starting,
        "new_mrr_minor": new,
        "expansion_mrr_minor": expansion,
        "reactivation_mrr_minor": reactivation,
        "contraction_mrr_minor": contraction,
        "churned_mrr_minor": churned,
        "ending_mrr_minor": starting + new + expansion + reactivation - contraction - churned,
        "is_complete_month": month != MAR,
    }


def kpi_row(month, currency, logo, revenue, nrr, grr):
    return {
        "month": month,
        "currency": currency,
        "logo_churn_rate": logo,
        "revenue_churn_rate": revenue,
        "net_revenue_retention": nrr,
        "gross_revenue_retention": grr,
        "is_complete_month": month != MAR,
    }


def cohort_row(cohort, currency, age, customers, retained):
    return {
        "cohort_month": cohort,
        "currency": currency,
        "months_since_signup": age,
        "customers": customers,
        "retained_customers": retained,
        "retention_rate": retained / customers,
    }


def day_row(day, currency, gross, refunds, fees):
    return {
        "day": day,
        "currency": currency,
        "gross_charges": gross,
        "refunds": refunds,
        "dispute_losses": 0,
        "fees": fees,
        "net": gross - refunds - fees,
    }


# usd's bridge ends March at USD 1,450.50; jpy's figures share none of usd's digits' shapes.
DATA = ReportData(
    generated_at=GENERATED_AT,
    mrr_monthly=[
        mrr_row(MAR, "usd", 145050),  # out of order: the report sorts
        mrr_row(JAN, "usd", 100000),
        mrr_row(FEB, "usd", 150000),
        mrr_row(JAN, "jpy", 5000),
        mrr_row(FEB, "jpy", 7000),
        mrr_row(MAR, "jpy", 6500),
    ],
    mrr_movements=[
        bridge_row(JAN, "usd", 0, 100000, 0, 0, 0, 0),
        bridge_row(FEB, "usd", 100000, 40000, 15000, 0, 5000, 0),
        bridge_row(MAR, "usd", 150000, 10000, 0, 2050, 2000, 15000),
        bridge_row(JAN, "jpy", 0, 5000, 0, 0, 0, 0),
        bridge_row(FEB, "jpy", 5000, 3000, 0, 0, 0, 1000),
        bridge_row(MAR, "jpy", 7000, 0, 0, 0, 500, 0),
    ],
    saas_kpis_monthly=[
        kpi_row(JAN, "usd", 0.0, 0.0, 1.0, 1.0),
        kpi_row(FEB, "usd", 0.1, Decimal("0.05"), 1.1, 0.95),
        kpi_row(MAR, "usd", None, None, None, None),
        kpi_row(JAN, "jpy", 0.0, None, None, None),
        kpi_row(FEB, "jpy", 0.5, 0.2, 0.8, 0.8),
        kpi_row(MAR, "jpy", None, None, None, None),
    ],
    cohort_retention=[
        cohort_row(JAN, "usd", 0, 10, 10),
        cohort_row(JAN, "usd", 1, 10, 8),
        cohort_row(JAN, "usd", 2, 10, 7),
        cohort_row(FEB, "usd", 0, 4, 4),
        cohort_row(FEB, "usd", 1, 4, 3),
        cohort_row(MAR, "usd", 0, 2, 2),
        cohort_row(JAN, "jpy", 0, 3, 3),
        cohort_row(JAN, "jpy", 1, 3, 2),
        cohort_row(FEB, "jpy", 0, 1, 1),
    ],
    revenue_daily=[
        day_row(date(2024, 3, 1), "usd", 50000, 0, 1480),
        day_row(date(2024, 3, 2), "usd", 20000, 5000, 610),
        day_row(date(2024, 3, 4), "usd", 9999, 0, 320),
        day_row(date(2024, 3, 1), "jpy", 3000, 0, 120),
        day_row(date(2024, 3, 3), "jpy", 8000, 1000, 300),
    ],
)

# (chart, data-series) -> data-points per currency: the rows whose value is not null.
EXPECTED_POINTS = {
    "usd": {
        ("mrr", "mrr_minor"): 3,
        **{("bridge", f"{movement}_mrr_minor"): 3 for movement in MOVEMENTS},
        ("churn", "logo_churn_rate"): 2,
        ("churn", "revenue_churn_rate"): 2,
        ("retention", "net_revenue_retention"): 2,
        ("retention", "gross_revenue_retention"): 2,
        ("cohort", "retention_rate"): 6,
        ("daily", "gross_charges"): 3,
        ("daily", "net"): 3,
    },
    "jpy": {
        ("mrr", "mrr_minor"): 3,
        **{("bridge", f"{movement}_mrr_minor"): 3 for movement in MOVEMENTS},
        ("churn", "logo_churn_rate"): 2,
        ("churn", "revenue_churn_rate"): 1,
        ("retention", "net_revenue_retention"): 1,
        ("retention", "gross_revenue_retention"): 1,
        ("cohort", "retention_rate"): 3,
        ("daily", "gross_charges"): 2,
        ("daily", "net"): 2,
    },
}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    ancestors: list["Element"] = field(repr=False)  # a repr through them would never end
    text: str = ""
    children: list["Element"] = field(default_factory=list, repr=False)

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def nearest(self, predicate) -> "Element | None":
        return next((a for a in reversed(self.ancestors) if predicate(a)), None)

    @property
    def currency(self) -> str | None:
        section = self.nearest(lambda a: a.tag == "section")
        return section.attrs["data-currency"] if section else None


class Page(HTMLParser):
    """Every element of the report with its ancestors and inner text."""

    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self, markup: str):
        super().__init__()
        self.elements: list[Element] = []
        self.open: list[Element] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), list(self.open))
        self.elements.append(element)
        if self.open:
            self.open[-1].children.append(element)
        if tag not in self.VOID:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.open.pop()

    def handle_endtag(self, tag):
        assert self.open and self.open[-1].tag == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    def handle_data(self, data):
        for element in self.open:
            element.text += data

    def find(self, predicate) -> list[Element]:
        return [element for element in self.elements if predicate(element)]

    def sections(self) -> dict[str, Element]:
        return {e.attrs["data-currency"]: e for e in self.find(lambda e: e.tag == "section")}


@pytest.fixture(scope="module")
def page() -> str:
    return render_report(DATA)


@pytest.fixture(scope="module")
def parsed(page) -> Page:
    return Page(page)


@pytest.mark.parametrize(
    ("minor", "currency", "shown", "major"),
    [
        (123456, "usd", "USD 1,234.56", Decimal("1234.56")),
        (5000, "jpy", "JPY 5,000", Decimal("5000")),
        (12345, "kwd", "KWD 12.345", Decimal("12.345")),
        (-1200, "usd", "-USD 12.00", Decimal("-12.00")),
        (-1234567, "JPY", "-JPY 1,234,567", Decimal("-1234567")),
        (5, "eur", "EUR 0.05", Decimal("0.05")),
        (0, "usd", "USD 0.00", Decimal("0")),
    ],
)
def test_money_reads_in_major_units_code_first_sign_leading(minor, currency, shown, major):
    assert format_money(minor, currency) == shown
    assert major_units(minor, currency) == major


def test_major_units_are_exact_decimals():
    assert major_units(10, "usd") == Decimal("0.1") and isinstance(major_units(10, "usd"), Decimal)
    assert major_units(123456789012345678, "usd") == Decimal("1234567890123456.78")


def test_nothing_is_fetched(page):
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:[a-z]+:)?//""", page, re.I)
    for fetching in ("<script", "<link", "<img", "<iframe", "@import", "url("):
        assert fetching not in page.lower()
    assert page.count("<style>") == 1


def test_one_section_per_currency_sorted_each_with_six_charts(parsed):
    assert list(parsed.sections()) == ["jpy", "usd"]
    for currency in ("jpy", "usd"):
        roots = parsed.find(lambda e, c=currency: "data-chart" in e.attrs and e.currency == c)
        assert [root.attrs["data-chart"] for root in roots] == CHARTS
        assert {root.attrs["data-currency"] for root in roots} == {currency}
        assert not any("no-data" in root.classes for root in roots)


def test_every_series_draws_as_many_marks_as_its_rows_have_values(parsed):
    for currency, expected in EXPECTED_POINTS.items():
        drawn = {}
        for series in parsed.find(lambda e, c=currency: "series" in e.classes and e.currency == c):
            chart = series.nearest(lambda a: "data-chart" in a.attrs).attrs["data-chart"]
            marks = parsed.find(
                lambda e, s=series: ({"point", "bar"} & set(e.classes))
                and e.nearest(lambda a: "series" in a.classes) is s
            )
            assert int(series.attrs["data-points"]) == len(marks), (currency, chart)
            drawn[chart, series.attrs["data-series"]] = len(marks)
        assert drawn == expected, currency


def test_the_month_in_progress_is_marked(parsed):
    (mrr,) = parsed.find(
        lambda e: e.attrs.get("data-series") == "mrr_minor" and e.currency == "usd"
    )
    circles = [child for child in mrr.children if child.tag == "circle"]
    assert ["incomplete" in circle.classes for circle in circles] == [False, False, True]
    paths = [child.classes for child in mrr.children if child.tag == "path"]
    assert paths == [["line"], ["line", "incomplete"]]
    bars = parsed.find(lambda e: "bar" in e.classes and e.currency == "usd")
    assert sum("incomplete" in bar.classes for bar in bars) == len(MOVEMENTS)


def test_bridge_bars_add_above_zero_and_remove_below_it(parsed):
    (chart,) = parsed.find(lambda e: e.attrs.get("data-chart") == "bridge" and e.currency == "usd")
    (zero,) = parsed.find(lambda e: "zero" in e.classes and chart in e.ancestors)
    bars = {
        bar.nearest(lambda a: "series" in a.classes).attrs["data-series"]: bar
        for bar in parsed.find(lambda e: "bar" in e.classes and chart in e.ancestors)
        if bar.text.startswith("2024-02")
    }

    def top(name):
        return float(bars[f"{name}_mrr_minor"].attrs["y"])

    def bottom(name):
        return top(name) + float(bars[f"{name}_mrr_minor"].attrs["height"])

    zero_y = float(zero.attrs["y1"])
    assert bottom("new") == pytest.approx(zero_y) and top("new") < zero_y
    assert bottom("expansion") == pytest.approx(top("new"))  # stacked on new
    assert top("contraction") == pytest.approx(zero_y) and bottom("contraction") > zero_y
    assert bottom("new") - top("new") == pytest.approx(
        (bottom("contraction") - top("contraction")) * 400 / 50, rel=0.02
    )  # USD 400.00 new against USD 50.00 contraction


def test_bridge_table_rows_add_up_in_major_units(parsed):
    (table,) = parsed.find(
        lambda e: e.attrs.get("data-table") == "bridge" and e.attrs["data-currency"] == "usd"
    )
    rows = [
        [cell.text for cell in row.children]
        for row in parsed.find(lambda e: e.tag == "tr" and table in e.ancestors)
    ]
    assert rows[0] == [
        "Month",
        "Starting",
        "New",
        "Expansion",
        "Reactivation",
        "Contraction",
        "Churned",
        "Ending",
    ]
    assert rows[2] == [
        "2024-02",
        "USD 1,000.00",
        "USD 400.00",
        "USD 150.00",
        "USD 0.00",
        "-USD 50.00",
        "USD 0.00",
        "USD 1,500.00",
    ]
    assert rows[3] == [
        "2024-03 (in progress)",
        "USD 1,500.00",
        "USD 100.00",
        "USD 0.00",
        "USD 20.50",
        "-USD 20.00",
        "-USD 150.00",
        "USD 1,450.50",
    ]


def test_no_figure_leaves_its_currency_section(parsed):
    sections = parsed.sections()
    for currency, section in sections.items():  # the text includes the charts' tooltips
        codes = set(re.findall(r"-?([A-Z]{3}) \d", section.text))
        assert codes == {currency.upper()}, currency
    assert "1,450.50" in sections["usd"].text and "1,450.50" not in sections["jpy"].text
    assert "JPY 6,500" in sections["jpy"].text and "6,500" not in sections["usd"].text


def test_cohort_heat_map_shades_by_retention(parsed):
    cells = parsed.find(lambda e: e.tag == "td" and "point" in e.classes and e.currency == "usd")
    assert [cell.text for cell in cells] == ["100%", "80%", "70%", "100%", "75%", "100%"]
    assert len({cell.attrs["style"] for cell in cells}) == 4  # one shade per distinct rate
    cohort = parsed.find(lambda e: e.attrs.get("data-chart") == "cohort" and e.currency == "usd")
    header = [th.text for th in parsed.find(lambda e: e.tag == "th" and cohort[0] in e.ancestors)]
    assert header[:5] == ["Cohort", "Customers", "0", "1", "2"]


def test_header_says_when_in_utc_and_that_amounts_are_never_converted():
    moment = datetime(2024, 3, 15, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    page = render_report(ReportData(generated_at=moment))
    assert "2024-03-15 12:30:00 UTC" in page
    assert "amounts in each currency's major units; never converted" in page
    assert "2024-03-15 12:30:00 UTC" in render_report(ReportData(datetime(2024, 3, 15, 12, 30)))


def test_no_rows_at_all_says_no_data_yet():
    page = render_report(ReportData(generated_at=GENERATED_AT))
    parsed = Page(page)
    assert "No data yet" in page
    assert not parsed.sections() and not parsed.find(lambda e: "data-chart" in e.attrs)


def test_a_currency_missing_from_some_marts_says_no_data_yet_there():
    page = render_report(
        ReportData(
            generated_at=GENERATED_AT,
            saas_kpis_monthly=[kpi_row(MAR, "eur", None, None, None, None)],
            revenue_daily=[day_row(date(2024, 3, 1), "eur", 1000, 0, 59)],
        )
    )
    parsed = Page(page)
    roots = parsed.find(lambda e: "data-chart" in e.attrs)
    assert [root.attrs["data-chart"] for root in roots] == CHARTS
    assert [root.attrs["data-chart"] for root in roots if "no-data" in root.classes] == CHARTS[:5]
    assert page.count("No data yet") == 5
    assert 'data-table="bridge"' not in page
    (daily,) = parsed.find(lambda e: e.attrs.get("data-series") == "net")
    assert daily.attrs["data-points"] == "1" and "EUR 9.41" in daily.text


def test_text_is_escaped():
    page = render_report(
        ReportData(
            generated_at=GENERATED_AT,
            title='<script>alert("x")</script> & co',
            mrr_monthly=[mrr_row(JAN, "<b>", 100), mrr_row(FEB, '"x', 200)],
        )
    )
    parsed = Page(page)
    assert not parsed.find(lambda e: e.tag in {"script", "b"})
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    assert set(parsed.sections()) == {"<b>", '"x'}
    assert "&lt;B&gt; 1.00" in page


def test_the_mrr_chart_alone_is_an_svg_document_an_image_can_show():
    """What the UI's markdown metadata on mrr_monthly shows: namespaced, styled, the one
    currency's points only."""
    import xml.etree.ElementTree as ElementTree

    rows = [mrr_row(month, "usd", 1000 * n) for n, month in enumerate((JAN, FEB, MAR), 1)]
    rows.append(mrr_row(JAN, "jpy", 5000))
    svg = ElementTree.fromstring(mrr_chart_svg("usd", rows))
    namespace = "{http://www.w3.org/2000/svg}"
    assert svg.tag == f"{namespace}svg" and svg.find(f"{namespace}style") is not None
    [series] = [g for g in svg.iter(f"{namespace}g") if g.get("class") == "series"]
    assert series.get("data-points") == "3"
    titles = [title.text for title in series.iter(f"{namespace}title")]
    assert titles == ["2024-01: USD 10.00", "2024-02: USD 20.00", "2024-03: USD 30.00"]
