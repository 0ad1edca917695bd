"""The activity log's count stops at a cap, so a page view never reads millions of events to count them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from app.extensions import db
from app.models import CampaignEvent
from app.services.activity import ActivityFilter, count_events

T0 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def add_events(session, campaign, count: int) -> None:
    for i in range(count):
        session.add(
            CampaignEvent(
                campaign_id=campaign.id,
                brand_id=campaign.brand_id,
                at=T0 - timedelta(minutes=i),
                old_status="active",
                new_status="paused",
                new_reasons="daily_budget",
                actor="sweep",
                automatic=True,
            )
        )
    session.commit()


def test_the_count_is_exact_up_to_the_cap_and_cap_plus_one_past_it(session, make):
    campaign = make.campaign(make.brand("Acme"), "Search")
    add_events(session, campaign, 5)
    assert count_events(session, ActivityFilter(), cap=10) == 5
    assert count_events(session, ActivityFilter(), cap=5) == 5
    assert count_events(session, ActivityFilter(), cap=3) == 4
    assert count_events(session, ActivityFilter(brand_id=campaign.brand_id, kind="manual"), cap=3) == 0


def test_the_count_reads_at_most_cap_plus_one_rows(session, make):
    campaign = make.campaign(make.brand("Acme"), "Search")
    add_events(session, campaign, 40)
    statements: list[str] = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert count_events(session, ActivityFilter(), cap=10) == 11
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 1 and "LIMIT" in statements[0].upper()
