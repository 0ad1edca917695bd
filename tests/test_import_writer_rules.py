"""Rules of the import writer: transactions sized by time (SQLite), and which brands its spend asks to enforce."""

from __future__ import annotations

import pytest

from app.services.spend import (
    SQLITE_COMMIT_ROWS_MAX,
    SQLITE_COMMIT_ROWS_MIN,
    SQLITE_HOLD_SECONDS,
    next_commit_rows,
)


@pytest.mark.parametrize(
    ("planned", "rows", "seconds", "expected"),
    [
        # as many rows as fit in the hold time at the last transaction's speed
        (5_000, 5_000, SQLITE_HOLD_SECONDS, 5_000),
        (5_000, 5_000, SQLITE_HOLD_SECONDS * 2, 2_500),
        (8_000, 8_000, SQLITE_HOLD_SECONDS / 1.5, 12_000),
        # a loaded machine: far fewer, never below the floor
        (5_000, 5_000, 60.0, SQLITE_COMMIT_ROWS_MIN),
        # a fast one: at most twice what was allowed, never above the ceiling
        (5_000, 5_000, SQLITE_HOLD_SECONDS / 100, 10_000),
        (SQLITE_COMMIT_ROWS_MAX, SQLITE_COMMIT_ROWS_MAX, SQLITE_HOLD_SECONDS / 10, SQLITE_COMMIT_ROWS_MAX),
        # a short tail of a batch (fewer rows than allowed) is judged by its own speed, growth by the allowance
        (10_000, 300, SQLITE_HOLD_SECONDS / 1000, 20_000),
        (10_000, 300, SQLITE_HOLD_SECONDS, SQLITE_COMMIT_ROWS_MIN),
        # a clock that did not move
        (5_000, 5_000, 0.0, 10_000),
    ],
)
def test_next_transaction_fits_the_hold_time(planned, rows, seconds, expected):
    assert next_commit_rows(planned, rows, seconds) == expected


def test_only_spend_of_a_current_month_asks_for_enforcement():
    from datetime import UTC, date, datetime

    from app.services.spend import brands_to_enforce

    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 23:00 on 30 November in Honolulu, 22:00 at UTC-11
    deltas = {
        (1, date(2026, 11, 30)): 5,
        (2, date(2026, 10, 31)): 7,
        (3, date(2026, 12, 1)): 1,
        (4, date(2027, 1, 2)): 1,
    }
    # November is still the month of brands west of UTC-9: its spend counts; October's cannot.
    assert brands_to_enforce(deltas, now) == {1, 3, 4}
    # 03:00 on 1 December even at UTC-12: every brand is in December.
    assert brands_to_enforce(deltas, datetime(2026, 12, 1, 15, 0, tzinfo=UTC)) == {3, 4}
    assert brands_to_enforce({(5, date(2026, 11, 1)): 1}, datetime(2026, 12, 1, 13, 59, tzinfo=UTC)) == {5}
