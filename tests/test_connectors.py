"""The connectors against local fake platforms on real sockets (tests/fake_platforms.py): what each sends
(auth headers, mutate bodies, GAQL, insights parameters), paging, throttling and errors, conversions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from app.connectors import ConnectorError, PlatformSettings, RateLimited, connector_for
from app.connectors.convert import ConversionError, brand_hour, hour_start, to_minor_units
from tests.fake_platforms import (
    GOOGLE_VERSION,
    META_VERSION,
    FakeGoogleAds,
    FakeMeta,
    Served,
    google_error,
    meta_error,
)

GOOGLE_CREDENTIALS = {
    "developer_token": "dev-token",
    "client_id": "client-1",
    "client_secret": "secret-1",
    "refresh_token": "refresh-1",
}


@pytest.fixture
def google():
    served = Served(FakeGoogleAds(statuses={"111": "ENABLED", "222": "ENABLED"}))
    yield served
    served.close()


@pytest.fixture
def meta():
    served = Served(FakeMeta(statuses={"9001": "ACTIVE"}))
    yield served
    served.close()


def google_connector(served, credentials=GOOGLE_CREDENTIALS, account="123-456-7890"):
    settings = PlatformSettings(served.url, GOOGLE_VERSION, token_url=f"{served.url}/token", timeout=5)
    return connector_for("google_ads", credentials, account, settings, httpx.Client(timeout=5, trust_env=False))


def meta_connector(served, token="EAAB-token"):
    settings = PlatformSettings(served.url, META_VERSION, timeout=5)
    return connector_for("meta", {"access_token": token}, "act_555", settings, httpx.Client(timeout=5, trust_env=False))


# --- Google Ads -------------------------------------------------------------------------------


def test_google_pause_sends_the_documented_mutate_with_oauth_and_developer_token(google):
    connector = google_connector(google)
    result = connector.apply("111", "paused")
    assert result.ok and result.status_code == 200
    token_call, mutate = google.app.requests
    assert token_call.path == "/token" and token_call.form["grant_type"] == "refresh_token"
    assert mutate.path == f"/{GOOGLE_VERSION}/customers/1234567890/campaigns:mutate"
    assert mutate.headers["authorization"] == "Bearer ya29.token-1"
    assert mutate.headers["developer-token"] == "dev-token"
    assert "login-customer-id" not in mutate.headers
    assert mutate.json == {
        "operations": [
            {
                "update": {"resourceName": "customers/1234567890/campaigns/111", "status": "PAUSED"},
                "updateMask": "status",
            }
        ]
    }
    assert google.app.statuses["111"] == "PAUSED"
    # The access token is reused; a repeat of the same state is a success (idempotent).
    assert connector.apply("111", "paused").ok
    assert connector.apply("111", "active").ok and google.app.statuses["111"] == "ENABLED"
    assert len(google.app.calls("/token")) == 1


def test_google_login_customer_id_header_for_a_manager_account(google):
    google.app.login_customer_id = "9998887777"
    with pytest.raises(ConnectorError) as refused:
        google_connector(google).apply("111", "paused")
    assert refused.value.permanent and "PERMISSION_DENIED" in str(refused.value)
    connector = google_connector(google, GOOGLE_CREDENTIALS | {"login_customer_id": "999-888-7777"})
    assert connector.apply("111", "paused").ok
    assert google.app.requests[-1].headers["login-customer-id"] == "9998887777"


def test_google_throttled_with_retry_after_or_retry_delay(google):
    body = google_error(
        429,
        "RESOURCE_EXHAUSTED",
        "Too many requests.",
        {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"},
        {"quotaErrorDetails": {"rateScope": "ACCOUNT", "retryDelay": "30s"}},
    )
    google.app.fail_next = [(429, body, {"Retry-After": "7"}), (429, body, {})]
    connector = google_connector(google)
    with pytest.raises(RateLimited) as first:
        connector.apply("111", "paused")
    assert first.value.retry_after == 7 and not first.value.permanent
    with pytest.raises(RateLimited) as second:
        connector.apply("111", "paused")
    assert second.value.retry_after == 30
    assert connector.apply("111", "paused").ok  # recovered


def test_google_unknown_campaign_and_bad_credentials_are_permanent(google):
    with pytest.raises(ConnectorError) as unknown:
        google_connector(google).apply("333", "paused")
    assert unknown.value.permanent and "Resource was not found" in str(unknown.value)
    with pytest.raises(ConnectorError) as bad:
        google_connector(google, GOOGLE_CREDENTIALS | {"refresh_token": "wrong"}).apply("111", "paused")
    assert bad.value.permanent and "invalid_grant" in str(bad.value)
    assert google.app.statuses == {"111": "ENABLED", "222": "ENABLED"}


def test_google_server_error_is_not_permanent(google):
    google.app.fail_next = [(503, google_error(503, "UNAVAILABLE", "try later", {"internalError": "TRANSIENT"}), {})]
    with pytest.raises(ConnectorError) as failed:
        google_connector(google).apply("111", "paused")
    assert not failed.value.permanent and not isinstance(failed.value, RateLimited)


def test_google_partial_failure_in_a_200_is_a_failure(google):
    google.app.fail_next = [(200, {"results": [{}], "partialFailureError": {"code": 3, "message": "op 0 failed"}}, {})]
    with pytest.raises(ConnectorError, match="op 0 failed"):
        google_connector(google).apply("111", "paused")


def test_google_spend_gaql_every_page_and_exact_micros(google):
    google.app.spend = [
        ("111", date(2026, 11, 24), 23, "1234567"),
        ("111", date(2026, 11, 25), 0, "2000000"),
        ("222", date(2026, 11, 25), 0, "5"),
        ("222", date(2026, 11, 26), 1, "999"),  # outside the range asked for
        ("111", date(2026, 11, 25), 14, "0"),
    ]
    rows = google_connector(google).fetch_spend("1234567890", date(2026, 11, 24), date(2026, 11, 25))
    searches = google.app.calls("googleAds:search")
    assert len(searches) == 2  # page size 2, four rows: the second request carries the pageToken
    assert searches[0].json["query"] == (
        "SELECT campaign.id, segments.date, segments.hour, metrics.cost_micros FROM campaign "
        "WHERE segments.date BETWEEN '2026-11-24' AND '2026-11-25'"
    )
    assert searches[1].json["pageToken"] == "2"
    assert [(r.platform_campaign_id, r.day, r.hour, r.amount) for r in rows] == [
        ("111", date(2026, 11, 24), 23, Decimal("1.234567")),
        ("111", date(2026, 11, 25), 0, Decimal("2")),
        ("222", date(2026, 11, 25), 0, Decimal("0.000005")),
        ("111", date(2026, 11, 25), 14, Decimal("0")),
    ]


def test_google_account_info(google):
    info = google_connector(google).account_info()
    assert (info.account_id, info.time_zone, info.currency) == ("1234567890", "Europe/Paris", "EUR")
    assert "FROM customer" in google.app.requests[-1].json["query"]


def test_google_customer_id_is_checked():
    with pytest.raises(ValueError, match="10 digits"):
        connector_for("google_ads", GOOGLE_CREDENTIALS, "12-34", PlatformSettings("http://x", "v21"), httpx.Client())


# --- Meta -------------------------------------------------------------------------------------


def test_meta_pause_and_activate_post_status_with_the_access_token(meta):
    connector = meta_connector(meta)
    assert connector.apply("9001", "paused").ok
    call = meta.app.requests[-1]
    assert (call.method, call.path) == ("POST", f"/{META_VERSION}/9001")
    assert call.form == {"status": "PAUSED", "access_token": "EAAB-token"}
    assert connector.apply("9001", "paused").ok  # already paused: still a success
    assert connector.apply("9001", "active").ok and meta.app.statuses["9001"] == "ACTIVE"


def test_meta_rate_limit_codes_with_the_business_use_case_wait(meta):
    usage = '{"1234": [{"type": "ads_management", "call_count": 100, "estimated_time_to_regain_access": 3}]}'
    meta.app.fail_next = [
        (
            400,
            meta_error(80004, "There have been too many calls to this ad-account.", 2446079),
            {"X-Business-Use-Case-Usage": usage},
        ),
        (400, meta_error(17, "User request limit reached", 2446079), {}),
        (429, meta_error(613, "Calls within one hour have exceeded the limit"), {"Retry-After": "12"}),
    ]
    connector = meta_connector(meta)
    waits = []
    for _ in range(3):
        with pytest.raises(RateLimited) as limited:
            connector.apply("9001", "paused")
        waits.append(limited.value.retry_after)
    assert waits == [180, None, 12]
    assert connector.apply("9001", "paused").ok


def test_meta_errors_permanent_or_transient(meta):
    with pytest.raises(ConnectorError) as unknown:
        meta_connector(meta).apply("4040", "paused")
    assert unknown.value.permanent and "code 100/33" in str(unknown.value)
    with pytest.raises(ConnectorError) as token:
        meta_connector(meta, token="expired").apply("9001", "paused")
    assert token.value.permanent and "code 190" in str(token.value)
    meta.app.fail_next = [(500, meta_error(2, "Service temporarily unavailable", transient=True), {})]
    with pytest.raises(ConnectorError) as transient:
        meta_connector(meta).apply("9001", "paused")
    assert not transient.value.permanent


def test_meta_insights_parameters_and_cursor_paging(meta):
    meta.app.spend = [
        ("9001", date(2026, 11, 25), 0, "1.5"),
        ("9001", date(2026, 11, 25), 1, "0.25"),
        ("9002", date(2026, 11, 25), 1, "100"),
    ]
    rows = meta_connector(meta).fetch_spend("555", date(2026, 11, 25), date(2026, 11, 25))
    first, second = meta.app.calls("/insights")
    assert first.args["level"] == "campaign" and first.args["fields"] == "campaign_id,spend"
    assert first.args["breakdowns"] == "hourly_stats_aggregated_by_advertiser_time_zone"
    assert first.args["time_increment"] == "1"
    assert first.args["time_range"] == '{"since": "2026-11-25", "until": "2026-11-25"}'
    assert second.args["after"] == "2"  # followed paging.next
    assert [(r.platform_campaign_id, r.hour, r.amount) for r in rows] == [
        ("9001", 0, Decimal("1.5")),
        ("9001", 1, Decimal("0.25")),
        ("9002", 1, Decimal("100")),
    ]


def test_meta_a_page_failing_fails_the_whole_read(meta):
    meta.app.spend = [("9001", date(2026, 11, 25), h, "1") for h in range(5)]
    meta.app.page_size = 2
    connector = meta_connector(meta)
    original = meta.app.handle

    def fail_second_page(request, body):
        if request.args.get("after"):
            return 500, meta_error(2, "An unexpected error has occurred.", transient=True)
        return original(request, body)

    meta.app.handle = fail_second_page
    with pytest.raises(ConnectorError, match="HTTP 500"):
        connector.fetch_spend("555", date(2026, 11, 25), date(2026, 11, 25))
    meta.app.handle = original
    assert len(connector.fetch_spend("555", date(2026, 11, 25), date(2026, 11, 25))) == 5


def test_meta_account_info(meta):
    info = meta_connector(meta).account_info()
    assert (info.name, info.time_zone, info.currency) == ("Fake ad account", "Europe/Paris", "EUR")


# --- conversions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal("1.234999"), "USD", 123),
        (Decimal("1.235"), "USD", 124),
        (Decimal("0.000005"), "USD", 0),
        (Decimal("1234.5"), "JPY", 1235),
        (Decimal("1.2345"), "KWD", 1235),
        (Decimal("0"), "EUR", 0),
    ],
)
def test_money_to_minor_units_half_up(amount, currency, minor):
    assert to_minor_units(amount, currency) == minor


def test_hours_to_instants_across_daylight_saving():
    assert hour_start(date(2026, 7, 1), 14, "Europe/Paris") == datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert hour_start(date(2026, 10, 25), 2, "Europe/Paris") == datetime(2026, 10, 25, 0, tzinfo=UTC)
    with pytest.raises(ConversionError, match="does not exist"):
        hour_start(date(2026, 3, 29), 2, "Europe/Paris")
    start = hour_start(date(2026, 7, 1), 14, "America/New_York")
    assert brand_hour(start, "Europe/Paris") == start  # six hours apart: the brand's 20:00
    with pytest.raises(ConversionError, match="whole number of hours"):
        brand_hour(start, "Asia/Kolkata")
