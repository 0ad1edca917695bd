"""Restoring an archived brand: managers only, with the campaigns archived with it, logged as a manual change."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.models import CampaignEvent
from app.services.brands import archive_brand, restore_brand
from app.services.reconcile import reconcile_brands
from tests.helpers import add_user, sign_in

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
ARCHIVED_AT = NOW - timedelta(days=3)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def archived(session, make):
    """Acme archived three days ago with Search and Social; Old was archived on its own before that."""
    brand = make.brand("Acme")
    search, social, old = make.campaign(brand, "Search"), make.campaign(brand, "Social"), make.campaign(brand, "Old")
    old.archived_at = ARCHIVED_AT - timedelta(days=1)
    session.commit()
    reconcile_brands(session, ARCHIVED_AT - timedelta(hours=1), actor="sweep")
    archive_brand(session, brand.id, ARCHIVED_AT, actor="user:someone@pacer.test")
    session.commit()
    return brand, search, social, old


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_manager_restores_a_brand_with_the_campaigns_archived_with_it(client, session, archived):
    brand, search, social, old = archived
    manager = add_user(session, "manager@pacer.test", "manager")
    sign_in(client, manager)
    page = text_of(client.get(f"/brands/{brand.id}"))
    assert "Restore Acme" in page

    response = client.post(f"/brands/{brand.id}/restore")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/brands/{brand.id}")
    for row in (brand, search, social, old):
        session.refresh(row)
    assert brand.archived_at is None
    assert [(c.archived_at, c.status, c.reasons) for c in (search, social)] == [(None, "active", [])] * 2
    assert (old.archived_at, old.status, old.reasons) == (ARCHIVED_AT - timedelta(days=1), "paused", ["disabled"])
    events = session.scalars(select(CampaignEvent).where(CampaignEvent.at == NOW).order_by(CampaignEvent.id)).all()
    assert [(e.campaign.name, e.old_status, e.new_status, e.actor, e.automatic) for e in events] == [
        ("Search", "paused", "active", "user:manager@pacer.test", False),
        ("Social", "paused", "active", "user:manager@pacer.test", False),
    ]
    shown = text_of(client.get(f"/brands/{brand.id}"))
    assert "Restored “Acme” and its 2 campaigns. 2 campaigns now active." in shown
    assert "Restore Acme" not in shown and "Edit brand" in shown


def test_viewers_may_not_restore_and_see_no_button(client, session, archived):
    brand = archived[0]
    sign_in(client, add_user(session, "viewer@pacer.test", "viewer"))
    assert "Restore Acme" not in text_of(client.get(f"/brands/{brand.id}"))
    assert client.post(f"/brands/{brand.id}/restore").status_code == 403
    session.refresh(brand)
    assert brand.archived_at == ARCHIVED_AT


def test_restore_needs_the_csrf_token(client, session, archived, app):
    brand = archived[0]
    sign_in(client, add_user(session, "manager@pacer.test", "manager"))
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/brands/{brand.id}/restore").status_code == 400
    session.refresh(brand)
    assert brand.archived_at == ARCHIVED_AT


def test_restoring_a_live_brand_changes_nothing(client, session, make):
    brand = make.brand("Acme")
    make.campaign(brand)
    session.commit()
    sign_in(client, add_user(session, "manager@pacer.test", "manager"))
    events = session.scalars(select(CampaignEvent)).all()
    client.post(f"/brands/{brand.id}/restore")
    assert "“Acme” is not archived." in text_of(client.get(f"/brands/{brand.id}"))
    assert session.scalars(select(CampaignEvent)).all() == events
    result = restore_brand(session, brand.id, NOW, actor="cli")
    assert (result.campaigns, result.changes) == (0, [])
    with pytest.raises(LookupError):
        restore_brand(session, 10_000, NOW, actor="cli")
