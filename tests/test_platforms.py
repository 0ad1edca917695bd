"""Connections, the mapping, pushes and pulls (app.services.platforms) against local fake platforms on real
sockets (tests/fake_platforms.py): credentials encrypted, dry run sending nothing, order, throttling,
permanent refusals marking the campaign out of sync, pulls written as hour rows and enforced."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.connectors import PlatformSettings
from app.models import CampaignPlatformLink, OutboxEvent, PlatformConnection, PlatformPush, SpendRecord
from app.services import platforms as pf
from app.services import reconcile as rec
from app.services.spend import new_spend, write_spend
from tests.fake_platforms import GOOGLE_VERSION, META_VERSION, FakeGoogleAds, FakeMeta, Served, google_error

KEY = pf.new_key()
GOOGLE_CREDENTIALS = {
    "developer_token": "dev-token",
    "client_id": "client-1",
    "client_secret": "secret-1",
    "refresh_token": "refresh-1",
}


@pytest.fixture
def google():
    served = Served(FakeGoogleAds(statuses={"111": "ENABLED", "222": "ENABLED"}, time_zone="UTC", currency="USD"))
    yield served
    served.close()


@pytest.fixture
def meta():
    served = Served(FakeMeta(statuses={"9001": "ACTIVE"}, time_zone="UTC", currency="USD"))
    yield served
    served.close()


def settings_for(google=None, meta=None, **kw) -> pf.ConnectorSettings:
    platforms = {}
    if google:
        platforms["google_ads"] = PlatformSettings(google.url, GOOGLE_VERSION, f"{google.url}/token", 5)
    if meta:
        platforms["meta"] = PlatformSettings(meta.url, META_VERSION, "", 5)
    return pf.ConnectorSettings(key=KEY, platforms=platforms, timeout=5, **kw)


def connect(session, brand, platform="google_ads", account="123-456-7890", credentials=None, dry_run=False):
    connection = pf.save_connection(session, brand.id, platform, account, credentials or GOOGLE_CREDENTIALS, key=KEY)
    connection.dry_run = dry_run
    session.commit()
    return connection


def pause_by_budget(session, campaign, now):
    """Make the campaign's brand reach its daily budget and reconcile: one campaign.paused event."""
    write_spend(session, [new_spend(campaign, campaign.brand.daily_budget_minor, now, source="api")])
    session.commit()
    rec.reconcile_brands(session, now, actor="test")


# --- connections and credentials --------------------------------------------------------------


def test_credentials_are_stored_encrypted_and_a_new_connection_is_a_dry_run(session, make):
    brand = make.brand("Acme")
    connection = pf.save_connection(
        session, brand.id, "google_ads", " 123-456-7890 ", GOOGLE_CREDENTIALS | {"login_customer_id": ""}, key=KEY
    )
    session.commit()
    assert connection.dry_run is True and connection.state == "new" and connection.account_id == "1234567890"
    assert "refresh-1" not in connection.credentials_encrypted and "secret-1" not in connection.credentials_encrypted
    assert pf.decrypt_credentials(connection.credentials_encrypted, KEY) == GOOGLE_CREDENTIALS
    with pytest.raises(pf.KeyMissing, match="do not open"):
        pf.decrypt_credentials(connection.credentials_encrypted, pf.new_key())
    assert (
        pf.key_problem(session, None)
        == "PACER_CONNECTOR_KEY is not set: ad-platform credentials cannot be encrypted or read."
    )
    assert pf.key_problem(session, KEY) is None


@pytest.mark.parametrize(
    ("platform", "account", "credentials", "field", "message"),
    [
        ("tiktok", "1", {}, "platform", "Unknown platform 'tiktok'"),
        ("google_ads", "12-34", GOOGLE_CREDENTIALS, "account_id", "10 digits"),
        (
            "google_ads",
            "1234567890",
            GOOGLE_CREDENTIALS | {"refresh_token": " "},
            "refresh_token",
            "Enter the refresh token",
        ),
        ("meta", "act_x1", {"access_token": "t"}, "account_id", "is a number"),
        ("meta", "act_1", {}, "access_token", "Enter the access token"),
    ],
)
def test_bad_connection_input_gets_a_sentence_and_writes_nothing(
    session, make, platform, account, credentials, field, message
):
    brand = make.brand("Acme")
    session.commit()
    with pytest.raises(pf.PlatformError, match=message) as refused:
        pf.save_connection(session, brand.id, platform, account, credentials, key=KEY)
    assert refused.value.field == field
    session.rollback()
    assert session.scalar(select(func.count()).select_from(PlatformConnection)) == 0


def test_no_key_no_connection_and_a_second_link_to_the_same_account_is_refused(session, make):
    brand = make.brand("Acme")
    session.commit()
    with pytest.raises(pf.KeyMissing, match="PACER_CONNECTOR_KEY is not set"):
        pf.save_connection(session, brand.id, "meta", "act_1", {"access_token": "t"}, key=None)
    session.rollback()
    pf.save_connection(session, brand.id, "meta", "act_1", {"access_token": "t"}, key=KEY)
    with pytest.raises(pf.PlatformError, match="already connected"):
        pf.save_connection(session, brand.id, "meta", "1", {"access_token": "t"}, key=KEY)


def test_test_connection_records_the_account_and_flags_another_currency(session, make, google, now):
    brand = make.brand("Acme", currency="EUR")
    connection = connect(session, brand)
    settings = settings_for(google)
    with pf.client(settings) as http:
        message = pf.test_connection(session, connection.id, now, pf.connector_factory(settings, http))
    assert "currency is USD and the brand's is EUR" in message and connection.state == "error"
    assert (connection.account_timezone, connection.account_currency) == ("UTC", "USD")
    google.app.currency = "EUR"
    with pf.client(settings) as http:
        message = pf.test_connection(session, connection.id, now, pf.connector_factory(settings, http))
    assert message.startswith("Google Ads answered: account “Fake account”") and connection.state == "ok"


# --- the mapping ------------------------------------------------------------------------------


def test_mapping_csv_all_or_nothing_with_line_numbers(session, make):
    brand = make.brand("Acme")
    search, video = make.campaign(brand, "Search"), make.campaign(brand, "Video")
    connection = connect(session, brand)
    bad = (
        "brand,campaign,platform,account_id,platform_campaign_id\n"
        "Acme,Search,google_ads,123-456-7890,111\n"
        "Acme,Nope,google_ads,123-456-7890,222\n"
        "Acme,Video,google_ads,999-999-9999,222\n"
        "Acme,Video,google_ads,123-456-7890,abc\n"
        "Acme,Video,google_ads,123-456-7890,111\n"
    )
    result = pf.import_mapping(session, bad)
    assert result.errors == [
        "line 3: Acme has no campaign “Nope”",
        "line 4: Acme has no Google Ads connection to account 9999999999",
        "line 5: A platform campaign id is its number, e.g. 12345678901.",
        "line 6: Platform campaign 111 is already linked to “Search”.",
    ]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(CampaignPlatformLink)) == 0
    good = (
        "Brand,Campaign,Platform,Account_ID,Platform_Campaign_ID\n"
        "Acme,Search,google_ads,1234567890,111\nAcme,Video,google_ads,1234567890,222\n"
    )
    assert pf.import_mapping(session, good).linked == 2
    session.commit()
    again = pf.import_mapping(session, good.replace(",222", ","))
    assert (again.unchanged, again.removed) == (1, 1)
    session.commit()
    assert [link.campaign_id for link in session.scalars(select(CampaignPlatformLink))] == [search.id]
    assert pf.link_campaign(session, video.id, connection.id, "333") == "linked"


# --- pushes -----------------------------------------------------------------------------------


def test_a_pause_is_pushed_to_google_and_recorded(session, make, google, now):
    brand = make.brand("Acme")
    search = make.campaign(brand, "Search")
    connection = connect(session, brand)
    pf.link_campaign(session, search.id, connection.id, "111")
    session.commit()
    rec.reconcile_brands(session, now, actor="test")  # first evaluation: active
    pause_by_budget(session, search, now + timedelta(minutes=1))
    payload = (
        session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == "campaign.paused").order_by(OutboxEvent.id.desc())
        )
        .first()
        .payload
    )
    assert payload["data"]["campaign"]["platform_ids"] == {"google_ads": "111"}

    run = pf.push_due(session, now + timedelta(minutes=2), settings_for(google))

    assert (run.dispatched, run.delivered) == (2, 2)  # resumed (first evaluation), then paused
    mutates = google.app.calls("campaigns:mutate")
    assert [m.json["operations"][0]["update"]["status"] for m in mutates] == ["ENABLED", "PAUSED"]
    assert google.app.statuses["111"] == "PAUSED"
    link = session.scalar(select(CampaignPlatformLink))
    assert link.sync_state == "in_sync"
    last = pf.push_history(session, search.id)[0]
    assert (
        last.status == "delivered"
        and last.last_status_code == 200
        and "customers/1234567890/campaigns/111" in last.answer
    )
    # A second pass sends nothing again.
    assert pf.push_due(session, now + timedelta(minutes=3), settings_for(google)).delivered == 0
    assert len(google.app.calls("campaigns:mutate")) == 2


def test_dry_run_logs_the_request_and_sends_nothing(session, make, meta, now):
    brand = make.brand("Acme")
    search = make.campaign(brand, "Search")
    connection = connect(session, brand, "meta", "act_555", {"access_token": "EAAB-token"}, dry_run=True)
    pf.link_campaign(session, search.id, connection.id, "9001")
    session.commit()
    rec.reconcile_brands(session, now, actor="test")
    pause_by_budget(session, search, now + timedelta(minutes=1))

    run = pf.push_due(session, now + timedelta(minutes=2), settings_for(meta=meta))

    assert run.dry_run == 2 and run.delivered == 0
    assert meta.app.requests == []
    logged = pf.push_history(session, search.id)[0]
    assert logged.status == "dry_run"
    assert json.loads(logged.request_json) == {
        "method": "POST",
        "url": f"{meta.url}/{META_VERSION}/9001",
        "body": {"status": "PAUSED"},
    }
    assert "EAAB-token" not in logged.request_json


def test_throttled_push_waits_for_retry_after_keeps_order_then_recovers(session, make, google, now):
    brand = make.brand("Acme")
    search = make.campaign(brand, "Search")
    connection = connect(session, brand)
    pf.link_campaign(session, search.id, connection.id, "111")
    session.commit()
    rec.reconcile_brands(session, now, actor="test")
    pause_by_budget(session, search, now + timedelta(minutes=1))
    body = google_error(429, "RESOURCE_EXHAUSTED", "Too many requests.", {"quotaError": "RESOURCE_EXHAUSTED"})
    google.app.fail_next = [(429, body, {"Retry-After": "120"})]
    settings = settings_for(google)
    rng = random.Random(1)

    first = pf.push_due(session, now + timedelta(minutes=2), settings, rng=rng)

    assert (first.retrying, first.delivered) == (1, 0)  # the resume was throttled; the pause waits behind it
    assert len(google.app.calls("campaigns:mutate")) == 1
    pushes = session.scalars(select(PlatformPush).order_by(PlatformPush.id)).all()
    assert [p.status for p in pushes] == ["pending", "pending"]
    assert pushes[0].next_attempt_at >= now + timedelta(minutes=2, seconds=120)
    assert pushes[0].last_error.startswith("rate limited") and pushes[0].last_status_code == 429
    assert session.scalar(select(CampaignPlatformLink)).sync_state == "pending"
    # Not yet due: nothing sent.
    assert pf.push_due(session, now + timedelta(minutes=3), settings, rng=rng).delivered == 0
    later = pf.push_due(session, now + timedelta(minutes=5), settings, rng=rng)
    assert later.delivered == 2
    mutates = google.app.calls("campaigns:mutate")
    assert [m.json["operations"][0]["update"]["status"] for m in mutates] == ["ENABLED", "ENABLED", "PAUSED"]
    assert google.app.statuses["111"] == "PAUSED"


def test_a_refused_push_marks_the_campaign_out_of_sync_with_the_reason(session, make, google, now):
    brand = make.brand("Acme")
    search = make.campaign(brand, "Search")
    connection = connect(session, brand)
    pf.link_campaign(session, search.id, connection.id, "404")  # not a campaign of the account
    session.commit()
    rec.reconcile_brands(session, now, actor="test")

    run = pf.push_due(session, now, settings_for(google))

    assert run.given_up == 1
    [(link, campaign)] = pf.out_of_sync(session, brand.id)
    assert campaign.id == search.id
    assert link.sync_reason.startswith("refused: Google Ads campaign 404 to ENABLED: HTTP 400 INVALID_ARGUMENT")


def test_a_platform_down_for_the_whole_window_gives_up(session, make, google, now):
    brand = make.brand("Acme")
    search = make.campaign(brand, "Search")
    connection = connect(session, brand)
    pf.link_campaign(session, search.id, connection.id, "111")
    session.commit()
    rec.reconcile_brands(session, now, actor="test")
    settings = settings_for(google, retry_window=timedelta(minutes=30))
    unavailable = (503, google_error(503, "UNAVAILABLE", "down", {"internalError": "TRANSIENT_ERROR"}), {})
    google.app.fail_next = [unavailable] * 50
    at, rng = now, random.Random(2)
    for _ in range(30):
        run = pf.push_due(session, at, settings, rng=rng)
        if run.given_up:
            break
        at = pf.next_push_due(session)
    assert run.given_up == 1 and at >= now + timedelta(minutes=30)
    push = session.scalar(select(PlatformPush))
    assert push.status == "failed" and push.attempts > 2
    assert session.scalar(select(CampaignPlatformLink)).sync_state == "out_of_sync"


def test_only_reasons_changed_sends_nothing(session, make, google, now):
    brand = make.brand("Acme")
    search = make.campaign(brand, "Search")
    session.commit()
    rec.reconcile_brands(session, now, actor="test")
    pause_by_budget(session, search, now)  # paused: daily budget
    connection = connect(session, brand)
    pf.link_campaign(session, search.id, connection.id, "111")
    session.commit()
    assert pf.push_due(session, now, settings_for(google)).delivered == 2  # resumed, then paused
    search.enabled = False
    session.commit()
    rec.reconcile_brands(session, now + timedelta(minutes=1), actor="test")  # still paused, one more reason

    run = pf.push_due(session, now + timedelta(minutes=1), settings_for(google))

    assert run.dispatched == 1 and run.delivered == 0
    assert session.scalars(select(PlatformPush).order_by(PlatformPush.id.desc())).first().status == "skipped"
    assert len(google.app.calls("campaigns:mutate")) == 2


# --- pulls ------------------------------------------------------------------------------------


def test_pull_writes_hour_rows_converted_and_enforces(session, make, google, now):
    brand = make.brand("Acme", timezone="Europe/Paris", daily="10")
    search = make.campaign(brand, "Search")
    connection = connect(session, brand)
    pf.link_campaign(session, search.id, connection.id, "111")
    session.commit()
    google.app.time_zone = "America/New_York"  # six hours behind Paris: whole hours convert
    google.app.spend = [
        ("111", date(2026, 11, 25), 3, "4125000"),  # 03:00 New York = 09:00 Paris = 08:00 UTC
        ("111", date(2026, 11, 25), 4, "6000001"),
        ("222", date(2026, 11, 25), 4, "1000000"),  # not linked: counted, not written
    ]
    settings = settings_for(google)
    with pf.client(settings) as http:
        result = pf.pull_connection(session, connection.id, now, settings, pf.connector_factory(settings, http))
    session.commit()

    assert (result.ok, result.rows, result.written, result.unmapped) == (True, 3, 2, 1)
    assert result.brand_ids == {brand.id}
    rows = session.scalars(select(SpendRecord).order_by(SpendRecord.spent_at)).all()
    assert [(r.spent_at, r.amount_minor, r.source, r.dedupe_key) for r in rows] == [
        (datetime(2026, 11, 25, 8, tzinfo=UTC), 413, "pull", f"p:{search.id}:hour:2026-11-25 08:00:00.000000"),
        (datetime(2026, 11, 25, 9, tzinfo=UTC), 600, "pull", f"p:{search.id}:hour:2026-11-25 09:00:00.000000"),
    ]
    assert connection.last_pull_at == now and connection.state == "ok"
    query = google.app.calls("googleAds:search")[-1].json["query"]
    assert "BETWEEN '2026-10-25' AND '2026-11-25'" in query  # a first pull reads back 31 days, in New York dates
    rec.reconcile_brands(session, now, actor="test")
    assert search.status == "paused" and "daily_budget" in search.reasons  # 10.13 EUR >= 10 EUR
    with pf.client(settings) as http:
        pf.pull_connection(
            session, connection.id, now + timedelta(minutes=15), settings, pf.connector_factory(settings, http)
        )
    session.commit()
    query = google.app.calls("googleAds:search")[-1].json["query"]
    assert "BETWEEN '2026-11-23' AND '2026-11-25'" in query  # the 48 restated hours, in New York dates
    assert session.scalar(select(func.count()).select_from(SpendRecord)) == 2  # read again, nothing added


def test_a_failed_pull_writes_nothing_and_the_next_one_catches_up(session, make, meta, now):
    brand = make.brand("Acme")
    search = make.campaign(brand, "Search")
    connection = connect(session, brand, "meta", "act_555", {"access_token": "EAAB-token"})
    pf.link_campaign(session, search.id, connection.id, "9001")
    connection.last_pull_at = now - timedelta(days=5)
    session.commit()
    meta.app.spend = [("9001", date(2026, 11, 21), h, "1.00") for h in range(5)]
    original = meta.app.handle

    def fail_second_page(request, body):
        if request.args.get("after"):
            return 500, {"error": {"message": "An unexpected error has occurred.", "code": 2, "is_transient": True}}
        return original(request, body)

    meta.app.handle = fail_second_page
    settings = settings_for(meta=meta)
    with pf.client(settings) as http:
        failed = pf.pull_connection(session, connection.id, now, settings, pf.connector_factory(settings, http))
    session.commit()
    assert not failed.ok and "HTTP 500" in failed.error and connection.state == "error"
    assert connection.last_pull_at == now - timedelta(days=5)
    assert session.scalar(select(func.count()).select_from(SpendRecord)) == 0

    meta.app.handle = original
    later = now + timedelta(hours=1)
    with pf.client(settings) as http:
        caught_up = pf.pull_connection(session, connection.id, later, settings, pf.connector_factory(settings, http))
    session.commit()
    assert caught_up.ok and caught_up.written == 5 and connection.last_pull_at == later
    time_range = json.loads(meta.app.calls("/insights")[-1].args["time_range"])
    assert time_range == {"since": "2026-11-20", "until": "2026-11-25"}  # from the last success, 5 days back


# --- commands ---------------------------------------------------------------------------------


def test_cli_import_mapping_and_pull(app, session, make, runner, google, tmp_path):
    app.config.update(
        CONNECTOR_KEY=KEY,
        GOOGLE_ADS_BASE_URL=google.url,
        GOOGLE_ADS_VERSION=GOOGLE_VERSION,
        GOOGLE_OAUTH_TOKEN_URL=f"{google.url}/token",
    )
    brand = make.brand("Acme")
    make.campaign(brand, "Search")
    connection = connect(session, brand)
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "brand,campaign,platform,account_id,platform_campaign_id\nAcme,Serch,google_ads,1234567890,111\n"
    )
    refused = runner.invoke(args=["connectors", "import-mapping", str(mapping)])
    assert refused.exit_code == 1 and "line 2: Acme has no campaign “Serch”" in refused.output
    mapping.write_text(mapping.read_text().replace("Serch", "Search"))
    done = runner.invoke(args=["connectors", "import-mapping", str(mapping)])
    assert done.exit_code == 0 and "1 linked" in done.output
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    google.app.spend = [("111", hour.date(), hour.hour, "2500000")]
    pulled = runner.invoke(args=["connectors", "pull", str(connection.id)])
    assert pulled.exit_code == 0, pulled.output
    assert f"connection {connection.id}: 1 hour rows read, 1 new, 0 restated, 0 unmapped, 0 refused" in pulled.output
    assert session.scalar(select(SpendRecord.amount_minor)) == 250
    assert runner.invoke(args=["connectors", "pull", "999"]).exit_code == 1
    assert len(runner.invoke(args=["connectors", "new-key"]).output.strip()) == 44


def test_dry_run_off_sends_each_mapped_campaigns_state_now(session, make, google, now):
    brand = make.brand("Acme")
    search, video = make.campaign(brand, "Search"), make.campaign(brand, "Video")
    connection = connect(session, brand, dry_run=True)
    pf.link_campaign(session, search.id, connection.id, "111")
    pf.link_campaign(session, video.id, connection.id, "222")
    session.commit()
    rec.reconcile_brands(session, now, actor="test")
    pause_by_budget(session, search, now + timedelta(minutes=1))  # both paused by the brand's budget
    settings = settings_for(google)
    assert pf.push_due(session, now + timedelta(minutes=1), settings).dry_run == 4
    assert google.app.calls("campaigns:mutate") == []

    assert pf.set_dry_run(session, connection.id, False, now + timedelta(minutes=2)) == 2
    session.commit()
    run = pf.push_due(session, now + timedelta(minutes=2), settings)

    assert run.delivered == 2
    assert google.app.statuses == {"111": "PAUSED", "222": "PAUSED"}
    assert {link.sync_state for link in session.scalars(select(CampaignPlatformLink))} == {"in_sync"}


def test_a_campaign_out_of_sync_is_brought_back_by_a_resync(session, make, google, now):
    brand = make.brand("Acme")
    search = make.campaign(brand, "Search")
    connection = connect(session, brand)
    pf.link_campaign(session, search.id, connection.id, "111")
    session.commit()
    rec.reconcile_brands(session, now, actor="test")
    google.app.fail_next = [(403, google_error(403, "PERMISSION_DENIED", "no access", {"authorizationError": "X"}), {})]
    assert pf.push_due(session, now, settings_for(google)).given_up == 1
    assert pf.out_of_sync(session, brand.id)

    assert pf.resync(session, now + timedelta(minutes=5), campaign_id=search.id) == 1
    session.commit()
    assert pf.push_due(session, now + timedelta(minutes=5), settings_for(google)).delivered == 1
    assert pf.out_of_sync(session, brand.id) == [] and google.app.statuses["111"] == "ENABLED"
