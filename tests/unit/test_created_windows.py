"""What a windowed list cut short has left to read (CreatedWindows.left), on hand-made pages: a
page handed over narrows its window to the second of its last object, a split hands the older
half to the waiting windows, and what no reader took is left whole."""

from stripe_assets.defs.stripe.client import MIN_SPLIT_SECONDS, CreatedWindows

DAY = 86_400


def test_nothing_read_leaves_every_window_whole():
    windows = CreatedWindows([(0, 10 * DAY), (10 * DAY, None)])
    assert windows.left() == [(0, None)]  # adjacent windows are joined


def test_a_window_read_to_its_end_leaves_nothing_of_it():
    windows = CreatedWindows([(0, 10 * DAY), (20 * DAY, None)])
    token, window = windows.take()
    assert window == (0, 10 * DAY)
    windows.handed_over(token, {"created": 5 * DAY})
    windows.read_to_end(token)
    windows.finished()
    assert windows.left() == [(20 * DAY, None)]


def test_a_window_being_read_is_left_down_to_its_last_handed_over_second():
    windows = CreatedWindows([(0, 10 * DAY), (20 * DAY, None)])
    older, _ = windows.take()
    newer, _ = windows.take()
    windows.handed_over(older, {"created": 7 * DAY})
    windows.handed_over(newer, {"date": 30 * DAY})  # invoice items have a date, not created
    # the last object's second is read again: what shares it may come on the next page
    assert windows.left() == [(0, 7 * DAY + 1), (20 * DAY, 30 * DAY + 1)]


def test_a_split_leaves_the_older_half_waiting_and_the_newer_half_open():
    windows = CreatedWindows([(0, None), (50 * DAY, 60 * DAY)])
    token, _ = windows.take()
    other, _ = windows.take()
    windows.handed_over(other, {"created": 55 * DAY})
    windows.read_to_end(other)
    windows.finished()
    windows._idle = 1  # another reader waits for work: the next page gives it half
    last = {"created": 40 * DAY}
    middle = windows.keep_newer_half(token, 0, last)
    assert middle == 20 * DAY
    windows.handed_over(token, last)
    assert windows.left() == [(0, 40 * DAY + 1)]  # [0, 20 days) waits, [20, 40 days] is open
    half, window = windows.take()
    assert window == (0, 20 * DAY)
    windows.handed_over(half, {"created": 10 * DAY})
    assert windows.left() == [(0, 10 * DAY + 1), (20 * DAY, 40 * DAY + 1)]


def test_a_window_too_short_to_split_is_kept_whole():
    windows = CreatedWindows([(0, None)])
    token, _ = windows.take()
    windows._idle = 1
    assert windows.keep_newer_half(token, 0, {"created": MIN_SPLIT_SECONDS - 1}) == 0


def test_an_abandoned_list_gives_no_more_windows_but_keeps_what_is_left():
    windows = CreatedWindows([(0, DAY), (2 * DAY, 3 * DAY)])
    windows.abandon()
    assert windows.take() is None
    assert windows.left() == [(0, DAY), (2 * DAY, 3 * DAY)]
