"""`events_cursor_age` warns when the newest event the sync has read is more than
EVENTS_CURSOR_WARN_DAYS old: Stripe keeps events for 30 days, and past that the next sync must
list every mutable resource in full again."""

from datetime import UTC, datetime

import dagster as dg

from .assets import landing_key

EVENTS_CURSOR_WARN_DAYS = 20
EVENTS_WINDOW_DAYS = 30


@dg.asset_check(
    asset=landing_key("events"),
    description=f"The newest event read is less than {EVENTS_CURSOR_WARN_DAYS} days old, well "
    f"inside Stripe's {EVENTS_WINDOW_DAYS}-day events window.",
)
def events_cursor_age(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    event = context.instance.get_latest_materialization_event(landing_key("events"))
    metadata = event.asset_materialization.metadata if event and event.asset_materialization else {}
    cursor = metadata.get("cursor")
    if cursor is None or not cursor.value:
        return dg.AssetCheckResult(passed=True, description="No events cursor yet.")
    days = (datetime.now(UTC) - datetime.fromisoformat(cursor.value)).total_seconds() / 86_400
    return dg.AssetCheckResult(
        passed=days <= EVENTS_CURSOR_WARN_DAYS,
        severity=dg.AssetCheckSeverity.WARN,
        description=None if days <= EVENTS_CURSOR_WARN_DAYS else _stale_cursor_sentence(days),
        metadata={"cursor": cursor.value, "cursor_age_days": round(days, 2)},
    )


def _stale_cursor_sentence(days: float) -> str:
    left = EVENTS_WINDOW_DAYS - days
    if left < 1:  # the window has passed: no "sync within -3 days"
        return (
            f"The events cursor is {days:.0f} days old, past Stripe's {EVENTS_WINDOW_DAYS}-day "
            "events window: the next sync lists the changing resources in full again."
        )
    return (
        f"The events cursor is {days:.0f} days old: sync within {left:.0f} days, or the next "
        "sync lists everything again."
    )
