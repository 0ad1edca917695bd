"""A restated hour replaces its earlier figure (issue 15 on issue 14's period rows).

Passes once write_spend replaces a period row's figure (issue 14, item 1); on the connectors branch alone
write_spend still inserts-or-skips, so the second pull's figure is not stored and this test fails there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.connectors import PlatformSettings
from app.models import BrandDaySpend, SpendRecord
from app.services import platforms as pf
from tests.fake_platforms import META_VERSION, FakeMeta, Served


def test_a_restated_hour_replaces_the_earlier_figure_and_counts_once(session, make, now):
    served = Served(FakeMeta(statuses={"9001": "ACTIVE"}, time_zone="UTC", currency="USD"))
    try:
        key = pf.new_key()
        brand = make.brand("Acme", daily="100")
        search = make.campaign(brand, "Search")
        connection = pf.save_connection(session, brand.id, "meta", "act_555", {"access_token": "EAAB-token"}, key=key)
        pf.link_campaign(session, search.id, connection.id, "9001")
        session.commit()
        settings = pf.ConnectorSettings(key=key, platforms={"meta": PlatformSettings(served.url, META_VERSION)})

        def pull(at: datetime) -> None:
            with pf.client(settings) as http:
                assert pf.pull_connection(session, connection.id, at, settings, pf.connector_factory(settings, http)).ok
            session.commit()

        served.app.spend = [("9001", date(2026, 11, 25), 10, "5.00")]
        pull(now)
        served.app.spend = [("9001", date(2026, 11, 25), 10, "7.25")]  # the platform restated 10:00
        pull(now + timedelta(minutes=15))

        rows = session.scalars(select(SpendRecord)).all()
        assert [(r.spent_at, r.amount_minor) for r in rows] == [(datetime(2026, 11, 25, 10, tzinfo=UTC), 725)]
        day = session.get(BrandDaySpend, (brand.id, date(2026, 11, 25)))
        assert day.amount_minor == 725
    finally:
        served.close()
