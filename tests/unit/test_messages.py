"""Sentences a user reads, worked out from numbers alone."""

import pytest

from stripe_assets.defs.monitoring import _stale_cursor_sentence


@pytest.mark.parametrize("days", [29.6, 30.0, 31.0, 45.0, 400.0])
def test_a_cursor_past_the_events_window_never_shows_negative_days(days):
    sentence = _stale_cursor_sentence(days)
    assert " -" not in sentence and "within" not in sentence
    assert "lists the changing resources in full again" in sentence


def test_a_cursor_inside_the_window_says_how_long_is_left():
    assert "sync within 5 days" in _stale_cursor_sentence(25.0)
