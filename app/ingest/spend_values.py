"""The one spend rule, for every way spend comes in (form, CLI, API, CSV import, simulator).

An amount is a plain decimal, zero or more, in the minor units of the brand's currency
(app.money). ``spent_at`` lies between 2000-01-01 and five minutes after ``now`` by the
server's clock: a platform clock a little ahead is fine, a date typed wrong is not. The
simulator may take future rows (it stores nothing), so the upper bound is optional.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EARLIEST_SPEND = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_ALLOWANCE = timedelta(minutes=5)
MAX_EXTERNAL_ID = 200


def latest_spend(now: datetime) -> datetime:
    """The latest ``spent_at`` accepted at ``now``."""
    return now + FUTURE_ALLOWANCE


def spent_at_problem(instant: datetime, latest: datetime | None) -> str | None:
    """Why ``instant`` cannot be a spend time (a phrase naming the field), or None when it can.

    ``latest`` is :func:`latest_spend` of now, or None to allow any future time (the simulator).
    """
    if instant < EARLIEST_SPEND:
        return f"the spent_at time {_utc(instant)} is before 2000-01-01"
    if latest is not None and instant > latest:
        return (
            f"the spent_at time {_utc(instant)} is in the future (more than 5 minutes after the server's "
            f"time, {_utc(latest - FUTURE_ALLOWANCE)}); record spend once it has happened"
        )
    return None


def external_id_problem(external_id: str) -> str | None:
    """Why an external id cannot be stored, or None."""
    if len(external_id) > MAX_EXTERNAL_ID:
        return f"the external_id is longer than {MAX_EXTERNAL_ID} characters ({len(external_id)})"
    return None


def _utc(instant: datetime) -> str:
    # isoformat, not strftime: strftime does not pad years before 1000 on every platform.
    return instant.astimezone(UTC).isoformat(" ", "minutes")[:16] + " UTC"
