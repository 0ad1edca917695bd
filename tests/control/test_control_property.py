"""Property: decide() is active iff every part of the rule holds, with an independent oracle.

The oracle below works out the brand's wall clock from the instant's UTC value
with ``tzinfo.fromutc`` and re-implements flight, schedule and budget checks
inline, so it shares no code with ``decide``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from app.control import BudgetFacts, CampaignFacts, Reason, Status, Window, decide

UTC = UTC
BRAND_ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
]

# The instant may be expressed in any of these, including the brand's own zone.
INSTANT_ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=-9, minutes=-30)), timezone(timedelta(hours=14))]
    + [ZoneInfo(name) for name in BRAND_ZONES]
)

any_instant = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2030, 12, 31, 23, 59, 59),
    timezones=INSTANT_ZONES,
)


def _transitions(zone: str) -> list[datetime]:
    """UTC instants (to the minute) in 2020-2030 where the zone's offset changes."""
    tz = ZoneInfo(zone)
    found = []
    day = datetime(2020, 1, 1, tzinfo=UTC)
    while day.year <= 2030:
        following = day + timedelta(days=1)
        if day.astimezone(tz).utcoffset() != following.astimezone(tz).utcoffset():
            low, high = day, following  # offset changes in (low, high]
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(high)
        day = following
    return found


TRANSITIONS = {zone: _transitions(zone) for zone in BRAND_ZONES}


def instants(zone: str) -> st.SearchStrategy[datetime]:
    """Any aware instant, one near a DST transition of the zone, or one inside the shift.

    Near a transition the instant is written either in UTC or as the brand's own
    wall clock with a random fold. "Inside the shift" is a brand wall time that
    DST skips (Python reads it with the pre-transition offset) or repeats.
    """
    transitions = TRANSITIONS[zone]
    if not transitions:
        return any_instant
    tz = ZoneInfo(zone)

    def offsets(at: datetime) -> tuple[timedelta, timedelta]:
        before = (at - timedelta(minutes=1)).astimezone(tz).utcoffset()
        after = at.astimezone(tz).utcoffset()
        assert before is not None and after is not None
        return before, after

    @st.composite
    def near_transition(draw: st.DrawFn) -> datetime:
        at = draw(st.sampled_from(transitions))
        shift = timedelta(minutes=draw(st.integers(-90, 90)), seconds=draw(st.integers(0, 59)))
        if draw(st.booleans()):
            return at + shift
        before, _ = offsets(at)
        wall = (at + before).replace(tzinfo=None) + shift
        return wall.replace(tzinfo=tz, fold=draw(st.integers(0, 1)))

    @st.composite
    def inside_shift(draw: st.DrawFn) -> datetime:
        at = draw(st.sampled_from(transitions))
        before, after = offsets(at)
        # Spring forward: walls [at+before, at+after) never occur.
        # Fall back: walls [at+after, at+before) occur twice.
        first_wall = (at + min(before, after)).replace(tzinfo=None)
        minutes = abs(after - before) // timedelta(minutes=1)
        wall = first_wall + timedelta(minutes=draw(st.integers(0, minutes - 1)), seconds=draw(st.integers(0, 59)))
        return wall.replace(tzinfo=tz, fold=draw(st.integers(0, 1)))

    # The shifted interval gets two shares: it is where wall clocks go wrong.
    return st.one_of(any_instant, near_transition(), inside_shift(), inside_shift())


@st.composite
def windows(draw: st.DrawFn) -> Window:
    start = draw(st.integers(0, 95))
    end = draw(st.integers(start + 1, 96))
    return Window(draw(st.integers(0, 6)), start * 15, end * 15)


# Small amounts make spend == budget (the boundary) common.
money = st.one_of(st.integers(0, 3), st.integers(0, 10**9))


def wall_clock(now: datetime, tz: ZoneInfo) -> datetime:
    """The brand's wall clock at the absolute instant ``now``, via fromutc only."""
    offset = now.utcoffset()
    assert offset is not None
    utc_naive = now.replace(tzinfo=None) - offset
    return tz.fromutc(utc_naive.replace(tzinfo=tz))


def flight_date(draw: st.DrawFn, local: date) -> date | None:
    """None, a date near the local date (to hit the inclusive bounds), or any date."""
    return draw(
        st.one_of(
            st.none(),
            st.integers(-2, 2).map(lambda days: local + timedelta(days=days)),
            st.dates(date(2019, 12, 1), date(2031, 1, 31)),
        )
    )


@settings(deadline=None, max_examples=300)
@given(
    data=st.data(),
    zone=st.sampled_from(BRAND_ZONES),
    enabled=st.booleans(),
    daily=money,
    monthly=money,
    spend_today=money,
    spend_month=money,
)
def test_decide_is_the_conjunction_of_its_parts(
    data: st.DataObject,
    zone: str,
    enabled: bool,
    daily: int,
    monthly: int,
    spend_today: int,
    spend_month: int,
) -> None:
    tz = ZoneInfo(zone)
    now = data.draw(instants(zone), label="now")
    local = wall_clock(now, tz)
    minute = local.hour * 60 + local.minute

    start = flight_date(data.draw, local.date())
    end = flight_date(data.draw, local.date())
    random_windows = data.draw(st.lists(windows(), min_size=0, max_size=4), label="windows")
    extra = data.draw(
        st.sampled_from(["none", "around-now", "near-now", "just-closed", "about-to-open"]),
        label="extra window",
    )
    quarter = minute // 15
    if extra == "around-now":
        # A window of random width containing the local minute, so "in schedule" is common.
        first = data.draw(st.integers(max(0, quarter - 4), quarter))
        last = data.draw(st.integers(quarter + 1, min(96, quarter + 5)))
    elif extra == "near-now":
        # A short window with edges within two hours of the local minute, either side.
        first = data.draw(st.integers(max(0, quarter - 8), min(95, quarter + 8)))
        last = data.draw(st.integers(first + 1, min(96, first + 8)))
    elif extra == "just-closed" and quarter > 0:
        # Ends at the start of the current quarter hour (half-open: now is outside).
        first, last = data.draw(st.integers(max(0, quarter - 8), quarter - 1)), quarter
    elif extra == "about-to-open" and quarter < 95:
        # Starts at the next quarter hour.
        first = quarter + 1
        last = data.draw(st.integers(first + 1, min(96, first + 8)))
    else:
        extra = "none"
    if extra != "none":
        random_windows.append(Window(local.weekday(), first * 15, last * 15))
        random_windows = random_windows[-4:]
    campaign = CampaignFacts(enabled=enabled, start_date=start, end_date=end, windows=tuple(random_windows))
    budget = BudgetFacts(daily_budget=daily, monthly_budget=monthly, spend_today=spend_today, spend_month=spend_month)

    parts = [
        (Reason.DISABLED, enabled),
        (
            Reason.FLIGHT,
            (start is None or start <= local.date()) and (end is None or local.date() <= end),
        ),
        (
            Reason.SCHEDULE,
            not random_windows or any(w.day == local.weekday() and w.start <= minute < w.end for w in random_windows),
        ),
        (Reason.DAILY_BUDGET, spend_today < daily),
        (Reason.MONTHLY_BUDGET, spend_month < monthly),
    ]
    failing = tuple(reason for reason, holds in parts if not holds)

    decision = decide(campaign, budget, now, tz)

    assert decision.active is all(holds for _, holds in parts)
    assert decision.status is (Status.ACTIVE if not failing else Status.PAUSED)
    assert decision.reasons == failing


def test_transition_table_matches_the_known_2026_changes() -> None:
    """The strategy's transition list is right (spot-checked against the periods tables)."""

    def in_2026(zone: str) -> list[str]:
        return [t.strftime("%m-%dT%H:%M") for t in TRANSITIONS[zone] if t.year == 2026]

    assert in_2026("America/New_York") == ["03-08T07:00", "11-01T06:00"]
    assert in_2026("Europe/London") == ["03-29T01:00", "10-25T01:00"]
    assert in_2026("Australia/Lord_Howe") == ["04-04T15:00", "10-03T15:30"]
    assert in_2026("Pacific/Chatham") == ["04-04T14:00", "09-26T14:00"]
    assert TRANSITIONS["UTC"] == TRANSITIONS["Asia/Kolkata"] == TRANSITIONS["Asia/Kathmandu"] == []
