"""The ad-platform pages: managers only, credentials never shown again, test connection against a local
fake platform, dry-run switch, delete, the mapping CSV, and a campaign's platform ids and sync state."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.models import CampaignPlatformLink, PlatformConnection
from app.services import platforms as pf
from tests.fake_platforms import GOOGLE_VERSION, FakeGoogleAds, Served
from tests.helpers import add_user, sign_in

KEY = pf.new_key()
GOOGLE_FORM = {
    "platform": "google_ads",
    "account_id": "123-456-7890",
    "developer_token": "dev-token",
    "client_id": "client-1",
    "client_secret": "secret-1",
    "refresh_token": "refresh-1",
}


@pytest.fixture
def manager(app, session, client):
    app.config["CONNECTOR_KEY"] = KEY
    user = add_user(session, "mia@example.com", "manager")
    session.commit()
    sign_in(client, user)
    return user


def test_viewers_cannot_see_connections(app, session, client, make):
    brand = make.brand("Acme")
    viewer = add_user(session, "vic@example.com", "viewer")
    session.commit()
    sign_in(client, viewer)
    assert client.get(f"/brands/{brand.id}/connections").status_code == 403
    assert client.post(f"/brands/{brand.id}/connections", data=GOOGLE_FORM).status_code == 403


def test_add_a_connection_then_the_secrets_are_never_shown(session, client, make, manager):
    brand = make.brand("Acme")
    session.commit()
    page = client.get(f"/brands/{brand.id}/connections")
    assert page.status_code == 200 and "No ad-platform connections yet." in page.text

    added = client.post(f"/brands/{brand.id}/connections", data=GOOGLE_FORM, follow_redirects=True)

    assert added.status_code == 200 and "in dry run" in added.text
    for secret in ("dev-token", "client-1", "secret-1", "refresh-1"):
        assert secret not in added.text
    connection = session.scalar(select(PlatformConnection))
    assert connection.dry_run and connection.account_id == "1234567890"
    assert "refresh-1" not in connection.credentials_encrypted


def test_bad_input_shows_the_sentence_and_saves_nothing(session, client, make, manager):
    brand = make.brand("Acme")
    session.commit()
    response = client.post(f"/brands/{brand.id}/connections", data=GOOGLE_FORM | {"refresh_token": ""})
    assert response.status_code == 400 and "Enter the refresh token: Google Ads needs it." in response.text
    response = client.post(f"/brands/{brand.id}/connections", data=GOOGLE_FORM | {"account_id": "12"})
    assert response.status_code == 400 and "A Google Ads customer id has 10 digits" in response.text
    assert session.scalar(select(func.count()).select_from(PlatformConnection)) == 0


def test_without_a_key_the_page_says_so_and_adds_nothing(app, session, client, make, manager):
    app.config["CONNECTOR_KEY"] = None
    brand = make.brand("Acme")
    session.commit()
    assert "PACER_CONNECTOR_KEY is not set." in client.get(f"/brands/{brand.id}/connections").text
    response = client.post(f"/brands/{brand.id}/connections", data=GOOGLE_FORM)
    assert response.status_code == 400 and "Set it in the environment" in response.text
    assert session.scalar(select(func.count()).select_from(PlatformConnection)) == 0


def test_test_connection_dry_run_switch_and_delete(app, session, client, make, manager):
    served = Served(FakeGoogleAds(statuses={"111": "ENABLED"}, time_zone="UTC", currency="USD"))
    try:
        app.config.update(
            GOOGLE_ADS_BASE_URL=served.url,
            GOOGLE_ADS_VERSION=GOOGLE_VERSION,
            GOOGLE_OAUTH_TOKEN_URL=f"{served.url}/token",
        )
        brand = make.brand("Acme")
        session.commit()
        client.post(f"/brands/{brand.id}/connections", data=GOOGLE_FORM)
        connection = session.scalar(select(PlatformConnection))

        tested = client.post(f"/connections/{connection.id}/test", follow_redirects=True)
        assert "Google Ads answered: account “Fake account”, time zone UTC, currency USD." in tested.text
        session.refresh(connection)
        assert connection.state == "ok"

        switched = client.post(f"/connections/{connection.id}/dry-run", follow_redirects=True)
        assert "the current state of 0 mapped campaigns is being sent now" in switched.text
        session.refresh(connection)
        assert connection.dry_run is False

        client.post(f"/connections/{connection.id}/delete")
        assert session.scalar(select(func.count()).select_from(PlatformConnection)) == 0
    finally:
        served.close()


def test_mapping_csv_page_and_the_campaign_page(session, client, make, manager):
    brand = make.brand("Acme")
    search = make.campaign(brand, "Search")
    session.commit()
    client.post(f"/brands/{brand.id}/connections", data=GOOGLE_FORM)
    connection = session.scalar(select(PlatformConnection))
    bad = b"brand,campaign,platform,account_id,platform_campaign_id\nAcme,Nope,google_ads,1234567890,111\n"
    response = client.post(
        f"/brands/{brand.id}/connections/mapping",
        data={"file": (io.BytesIO(bad), "map.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "line 2: Acme has no campaign “Nope”" in response.text
    good = bad.replace(b"Nope", b"Search")
    client.post(
        f"/brands/{brand.id}/connections/mapping",
        data={"file": (io.BytesIO(good), "map.csv")},
        content_type="multipart/form-data",
    )
    assert session.scalar(select(CampaignPlatformLink.platform_campaign_id)) == "111"

    page = client.get(f"/campaigns/{search.id}")
    assert 'value="111"' in page.text and "nothing pushed yet" in page.text
    changed = client.post(
        f"/campaigns/{search.id}/platforms/{connection.id}", data={"platform_campaign_id": "x"}, follow_redirects=True
    )
    assert "Not changed: A platform campaign id is its number" in changed.text
    resent = client.post(f"/campaigns/{search.id}/platforms/resync", follow_redirects=True)
    assert "current state (paused) to 1 platform campaign." in resent.text
    client.post(f"/campaigns/{search.id}/platforms/{connection.id}", data={"platform_campaign_id": ""})
    assert session.scalar(select(func.count()).select_from(CampaignPlatformLink)) == 0


def test_health_fails_when_connections_exist_and_the_key_is_missing(app, session, make):
    from app.health import check_health

    brand = make.brand("Acme")
    pf.save_connection(session, brand.id, "meta", "act_1", {"access_token": "t"}, key=KEY)
    session.commit()
    app.config["CONNECTOR_KEY"] = None
    _, report = check_health(session)
    assert "connectors" in report["failing"]
    assert report["connectors"]["key"].startswith("PACER_CONNECTOR_KEY is not set")
    app.config["CONNECTOR_KEY"] = KEY
    _, report = check_health(session)
    assert "connectors" not in report["failing"] and report["connectors"] == {"key": "ok", "out_of_sync": 0}


def test_the_overview_lists_campaigns_out_of_sync(session, client, make, manager):
    brand = make.brand("Acme")
    search = make.campaign(brand, "Search")
    connection = pf.save_connection(session, brand.id, "meta", "act_1", {"access_token": "t"}, key=KEY)
    pf.link_campaign(session, search.id, connection.id, "42")
    session.flush()
    link = session.scalar(select(CampaignPlatformLink))
    link.sync_state, link.sync_reason = "out_of_sync", "refused: Meta campaign 42 to PAUSED: HTTP 400 code 100"
    session.commit()
    page = client.get("/")
    assert "Out of sync with the ad platforms" in page.text and "refused: Meta campaign 42 to PAUSED" in page.text
    link.sync_state = "in_sync"
    session.commit()
    assert "Out of sync with the ad platforms" not in client.get("/").text
