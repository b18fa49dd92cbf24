"""Minor units per major unit of a currency, as Stripe counts them
(https://docs.stripe.com/currencies#zero-decimal; dbt's macros/currency.sql lists the same)."""

ZERO_DECIMAL = ("bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
                "vuv", "xaf", "xof", "xpf")  # fmt: skip
THREE_DECIMAL = ("bhd", "jod", "kwd", "omr", "tnd")


def minor_units_sql(currency: str) -> str:
    """SQL for how many minor units of `currency` (a column) make one major unit."""

    def listed(codes: tuple[str, ...]) -> str:
        return ", ".join(f"'{code}'" for code in codes)

    return (
        f"(case when lower({currency}) in ({listed(ZERO_DECIMAL)}) then 1 "
        f"when lower({currency}) in ({listed(THREE_DECIMAL)}) then 1000 else 100 end)"
    )
