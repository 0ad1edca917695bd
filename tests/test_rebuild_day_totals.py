"""A brand's time zone change: every record's local date and the day totals recomputed set-based
(one UPDATE per span of constant UTC offset) must equal the rule's local_day record by record."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from app.control import local_day, utc_offset_spans
from app.extensions import db
from app.models import BrandDaySpend, SpendRecord
from app.services.brands import update_brand
from app.services.spend import new_spend, write_spend

# Around both 2026 changes of New York and of Lord Howe (a half-hour DST), and a zone with a :45 offset.
INSTANTS = [
    datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
    datetime(2026, 4, 4, 14, 59, 59, tzinfo=UTC),
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),
    datetime(2026, 4, 4, 15, 30, tzinfo=UTC),
    datetime(2026, 10, 3, 15, 29, 59, tzinfo=UTC),
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 4, 59, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 11, 30, 18, 14, 59, tzinfo=UTC),
    datetime(2026, 11, 30, 18, 15, tzinfo=UTC),
] + [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=7 * i, minutes=13 * i) for i in range(1200)]


@pytest.mark.parametrize("zone", ["Australia/Lord_Howe", "Asia/Kathmandu", "America/New_York"])
def test_a_zone_change_moves_every_record_to_its_local_date_and_regroups_the_totals(session, make, now, zone):
    brand = make.brand(timezone="UTC")
    campaign = make.campaign(brand)
    write_spend(
        session,
        [new_spend(campaign, 100 + i, at, source="manual", external_id=f"x{i}") for i, at in enumerate(INSTANTS)],
    )
    session.commit()
    statements = []
    event.listen(db.engine, "before_cursor_execute", count := lambda *args: statements.append(args[2]))
    try:
        update_brand(session, brand.id, now, actor="test", timezone=zone)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    session.commit()

    tz = ZoneInfo(zone)
    expected_totals = defaultdict(int)
    for record in session.scalars(select(SpendRecord)):
        assert record.local_date == local_day(record.spent_at, tz), record.spent_at
        expected_totals[record.local_date] += record.amount_minor
    totals = {row.local_date: row.amount_minor for row in session.scalars(select(BrandDaySpend))}
    assert totals == expected_totals
    # Set-based: the records are rewritten by one UPDATE per offset span, never one per record.
    spans = utc_offset_spans(tz, min(INSTANTS), max(INSTANTS))
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE SPEND_RECORD")]
    assert len(updates) == len(spans) < 10


def test_offset_spans_cover_the_instants_with_the_zones_offsets():
    first, last = datetime(2020, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)
    for zone in ("Australia/Lord_Howe", "America/New_York", "Pacific/Apia", "UTC"):
        tz = ZoneInfo(zone)
        spans = utc_offset_spans(tz, first, last)
        assert spans[0][0] <= first and spans[-1][1] > last
        for (_, end, _), (start, _, _) in zip(spans, spans[1:], strict=False):
            assert end == start  # no gap, no overlap
        for start, end, offset in spans:
            for at in (start, start + (end - start) / 2, end - timedelta(microseconds=1)):
                assert at.astimezone(tz).utcoffset() == offset
