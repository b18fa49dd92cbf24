"""Calendar arithmetic on epoch seconds, shared by the simulation and its ledger.

Stripe bills on calendar months (an anchor on the 31st bills on the last day of shorter months),
so periods are computed on dates, not as fixed numbers of seconds.
"""

import calendar
from datetime import UTC, date, datetime

DAY = 86_400


def to_epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def midnight(day: date) -> int:
    return to_epoch(datetime(day.year, day.month, day.day, tzinfo=UTC))


def add_months(seconds: int, months: int, anchor_day: int | None = None) -> int:
    """Move an instant by whole calendar months, clamping the day to the target month's length."""
    moment = from_epoch(seconds)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(anchor_day or moment.day, calendar.monthrange(year, month)[1])
    return to_epoch(moment.replace(year=year, month=month, day=day))


def month_start(seconds: int) -> int:
    moment = from_epoch(seconds)
    return to_epoch(datetime(moment.year, moment.month, 1, tzinfo=UTC))


def month_label(seconds: int) -> str:
    return from_epoch(seconds).strftime("%Y-%m")
