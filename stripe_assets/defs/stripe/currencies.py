"""Minor units per major unit of a currency, as Stripe counts them
(https://docs.stripe.com/currencies#zero-decimal; dbt's macros/currency.sql lists the same)."""

from decimal import Decimal

ZERO_DECIMAL = ("bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
                "vuv", "xaf", "xof", "xpf")  # fmt: skip
THREE_DECIMAL = ("bhd", "jod", "kwd", "omr", "tnd")


def decimals(currency: str) -> int:
    """Digits after the point in a currency's major unit."""
    code = currency.lower()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def major_units(amount_minor: int, currency: str) -> Decimal:
    """An amount in Stripe's minor units, exactly, in major units: 123456 usd is 1234.56,
    5000 jpy is 5000, 12345 kwd is 12.345."""
    return Decimal(amount_minor).scaleb(-decimals(currency))


def format_amount(amount_minor: int, currency: str) -> str:
    """An amount as people read it: 628575 usd is "6,285.75", -120000 gbp "-1,200.00"."""
    return f"{major_units(amount_minor, currency):,.{decimals(currency)}f}"


def minor_units_sql(currency: str) -> str:
    """SQL for how many minor units of `currency` (a column) make one major unit."""

    def listed(codes: tuple[str, ...]) -> str:
        return ", ".join(f"'{code}'" for code in codes)

    return (
        f"(case when lower({currency}) in ({listed(ZERO_DECIMAL)}) then 1 "
        f"when lower({currency}) in ({listed(THREE_DECIMAL)}) then 1000 else 100 end)"
    )
