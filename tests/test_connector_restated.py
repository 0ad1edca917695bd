"""Pulled hours are period rows (issue 15 on issue 14): a restated hour replaces its earlier figure, a pulled
and an uploaded figure for the same hour count once, and hours of a day kept as an uploaded day figure are
refused, with the reason on the connection, rather than counted twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.connectors import PlatformSettings
from app.models import BrandDaySpend, SpendRecord
from app.services import platforms as pf
from app.services.imports import create_import, run_import
from tests.fake_platforms import META_VERSION, FakeMeta, Served


def import_csv(session, tmp_path, name: str, *lines: str, now: datetime):
    path = tmp_path / name
    path.write_text("brand,campaign,amount,spent_at,period\n" + "\n".join(lines) + "\n")
    spend_import = create_import(session, path, filename=name, actor="test", skip_bad_rows=True)
    session.commit()
    return run_import(session, spend_import.id, now=now)


def test_a_restated_hour_replaces_the_earlier_figure_and_counts_once(session, make, now, tmp_path):
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

        # The same hour uploaded from a report: one figure, the latest (the upload's), never both.
        outcome = import_csv(session, tmp_path, "hours.csv", "Acme,Search,8.00,2026-11-25 10:00,hour", now=now)
        assert (outcome.status, outcome.replaced) == ("done", 1)
        session.expire_all()
        assert [r.amount_minor for r in session.scalars(select(SpendRecord))] == [800]
        assert session.get(BrandDaySpend, (brand.id, date(2026, 11, 25))).amount_minor == 800
        pull(now + timedelta(minutes=30))  # and the platform's figure again: it is the latest now
        session.expire_all()
        assert session.get(BrandDaySpend, (brand.id, date(2026, 11, 25))).amount_minor == 725

        # A day kept as one uploaded day figure: the platform's hours of it are refused, not added.
        import_csv(session, tmp_path, "day.csv", "Acme,Search,20.00,2026-11-24,day", now=now)
        served.app.spend = [("9001", date(2026, 11, 24), 9, "3.00")]
        with pf.client(settings) as http:
            result = pf.pull_connection(
                session, connection.id, now + timedelta(minutes=45), settings, pf.connector_factory(settings, http)
            )
        session.commit()
        assert (result.ok, result.written, result.refused) == (True, 0, 1)
        assert "1 pulled hour figure(s) not counted" in session.get(type(connection), connection.id).state_reason
        assert session.get(BrandDaySpend, (brand.id, date(2026, 11, 24))).amount_minor == 2000
    finally:
        served.close()
