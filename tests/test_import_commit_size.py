"""An import's SQLite transactions are sized by time: each holds the write lock about SQLITE_HOLD_SECONDS."""

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
