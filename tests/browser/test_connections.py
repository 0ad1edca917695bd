"""A manager connects a brand to a (local, fake) Meta ad account in a real browser: the credentials are
never shown again, the connection starts in dry run, "Test connection" answers, and a campaign is mapped
on its page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import PlatformConnection
from app.services.platforms import delete_connection, new_key
from tests.browser.conftest import login, seed_brand, unique
from tests.fake_platforms import META_VERSION, FakeMeta, Served

pytestmark = pytest.mark.browser


@pytest.fixture
def fake_meta(live):
    served = Served(FakeMeta(statuses={"9001": "ACTIVE"}, time_zone="UTC", currency="USD"))
    before = {k: live.app.config.get(k) for k in ("CONNECTOR_KEY", "META_BASE_URL", "META_VERSION")}
    live.app.config.update(CONNECTOR_KEY=new_key(), META_BASE_URL=served.url, META_VERSION=META_VERSION)
    yield served
    # The live server's database outlives this test: its connections go with the fake platform and the key, so
    # a later test's worker is not kept busy retrying pushes that can no longer be sent.
    live.run(lambda session: [delete_connection(session, c.id) for c in session.scalars(select(PlatformConnection))])
    live.app.config.update(before)
    served.close()


def test_connect_test_and_map_a_meta_account(page, live, fake_meta):
    seeded = seed_brand(live, unique("Platforms"), campaigns=("Search",))
    login(page, "manager")
    page.goto(f"/brands/{seeded.brand_id}")
    page.get_by_role("button", name="Ad platforms").click()
    expect(page.get_by_text("No ad-platform connections yet.")).to_be_visible()

    page.get_by_label("Platform").select_option(label="Meta")
    page.locator("#account_id").fill("act_555")
    page.get_by_label("Meta system user access token").fill("EAAB-token")
    page.get_by_role("button", name="Connect").click()

    expect(page.get_by_role("status").filter(has_text="in dry run")).to_be_visible()
    expect(page.locator("#connections")).to_contain_text("dry run")
    assert "EAAB-token" not in page.content()
    expect(page.get_by_label("Meta system user access token")).to_have_value("")

    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("status")).to_contain_text("Meta answered: account “Fake ad account”, time zone UTC")
    assert [r.path for r in fake_meta.app.requests] == [f"/{META_VERSION}/act_555"]

    page.goto(f"/campaigns/{seeded.campaign_ids['Search']}")
    panel = page.get_by_role("region", name="Ad platforms")
    panel.get_by_label("Meta campaign id").fill("9001")
    panel.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Platform id saved.")).to_be_visible()
    expect(page.get_by_role("region", name="Ad platforms").get_by_label("Meta campaign id")).to_have_value("9001")
