"""The outbox: every decision that leaves Pacer, written in the same transaction as the change.

A campaign state change (app.services.reconcile) and a fired alert (app.services.alerts) each add
one OutboxEvent before their transaction commits, so an event exists if and only if its change
committed. Delivery reads the outbox later (app.services.webhooks; the ad-platform connectors
will too); after a commit that wrote events, a delivery job is requested through app.queue, and
the periodic sweep requests one for anything left undelivered, so a lost request delays, never loses.

The payload is the webhook body, fixed when the event is written (docs/webhooks.md): the same
bytes and the same ``id`` (the ``webhook-id``) on every attempt to every endpoint.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from app import queue
from app.models import Brand, Campaign, CampaignEvent, CampaignPlatformLink, OutboxEvent, PlatformConnection

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
CAMPAIGN_PAUSED = "campaign.paused"
CAMPAIGN_RESUMED = "campaign.resumed"
ALERT_FIRED = "alert.fired"
TEST_EVENT = "webhook.test"
EVENT_TYPES = (CAMPAIGN_PAUSED, CAMPAIGN_RESUMED, ALERT_FIRED)

_WRITTEN = "pacer.outbox_written"


def iso(instant: datetime) -> str:
    """An instant as RFC 3339 UTC with a Z, as every timestamp in a payload."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def brand_ref(brand: Brand) -> dict:
    return {"id": brand.id, "name": brand.name, "timezone": brand.timezone, "currency": brand.currency}


def add_event(
    session: Session,
    *,
    type: str,
    occurred_at: datetime,
    data: dict,
    ordering_key: str,
    brand_id: int | None = None,
    campaign_id: int | None = None,
    only_endpoint_id: int | None = None,
) -> OutboxEvent:
    """Add one event to the caller's transaction (does not commit); its payload is fixed now."""
    event_id = new_event_id()
    payload = {
        "id": event_id,
        "type": type,
        "timestamp": iso(occurred_at),
        "schema_version": SCHEMA_VERSION,
        "data": data,
    }
    row = OutboxEvent(
        event_id=event_id,
        type=type,
        brand_id=brand_id,
        campaign_id=campaign_id,
        ordering_key=ordering_key,
        payload_json=json.dumps(payload, sort_keys=True),
        occurred_at=occurred_at,
        only_endpoint_id=only_endpoint_id,
    )
    session.add(row)
    session.info[_WRITTEN] = True
    return row


def campaign_ordering_key(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def mark_dispatched(session: Session, events: list[OutboxEvent], mark, now: datetime) -> None:
    """Stamp ``now`` on a batch of events' ``mark`` (``OutboxEvent.dispatched_at`` for the webhooks,
    ``platforms_dispatched_at`` for the platform pushes) in one UPDATE, not one per event: a sweep that turns
    100,000 campaigns writes as many events, and most have no subscriber."""
    session.execute(
        update(OutboxEvent).where(OutboxEvent.id.in_([e.id for e in events])).values({mark: now}),
        execution_options={"synchronize_session": False},
    )


def platform_ids(session: Session, campaign_ids: list[int]) -> dict[int, dict[str, str]]:
    """Each campaign's ids on the ad platforms it is linked to ({7: {"google_ads": "123"}, ...}; a campaign
    linked nowhere has none): one read for a reconcile's changes, however many."""
    found: dict[int, dict[str, str]] = {}
    for campaign_id, name, platform_id in session.execute(
        select(CampaignPlatformLink.campaign_id, PlatformConnection.platform, CampaignPlatformLink.platform_campaign_id)
        .join(PlatformConnection, PlatformConnection.id == CampaignPlatformLink.connection_id)
        .where(CampaignPlatformLink.campaign_id.in_(campaign_ids))
        .order_by(CampaignPlatformLink.id)
    ):
        found.setdefault(campaign_id, {})[name] = platform_id
    return found


def add_campaign_change(
    session: Session, brand: Brand, campaign: Campaign, audit: CampaignEvent, ids_on_platforms: dict[str, str]
) -> OutboxEvent:
    """The outbox event of one campaign state change, from its audit row (flushed, so it has an id);
    ``ids_on_platforms`` is the campaign's entry of :func:`platform_ids`.

    ``campaign.resumed`` when the campaign is now active, ``campaign.paused`` when it is paused
    (also when only its reasons changed, or on its first evaluation: ``previous.status`` is null then).
    """
    data = {
        "brand": brand_ref(brand),
        "campaign": {
            "id": campaign.id,
            "name": campaign.name,
            "enabled": campaign.enabled,
            # Ad-platform campaign ids by platform, from the connectors' mapping (app.services.platforms).
            "platform_ids": ids_on_platforms,
        },
        "previous": {"status": audit.old_status, "reasons": [r for r in audit.old_reasons.split(",") if r]},
        "current": {"status": audit.new_status, "reasons": audit.reasons},
        "actor": audit.actor,
        "automatic": audit.automatic,
        "facts": audit.facts,
        "audit_event_id": audit.id,
    }
    return add_event(
        session,
        type=CAMPAIGN_RESUMED if audit.new_status == "active" else CAMPAIGN_PAUSED,
        occurred_at=audit.at,
        data=data,
        ordering_key=campaign_ordering_key(campaign.id),
        brand_id=brand.id,
        campaign_id=campaign.id,
    )


@event.listens_for(Session, "after_commit")
def _request_delivery(session: Session) -> None:
    # After the commit, never before: a job must not look for events that are not visible yet.
    if not session.info.pop(_WRITTEN, False):
        return
    request_delivery()


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_WRITTEN, None)


# After a request that failed slowly (a connect timeout), later commits in this process skip asking
# for this long, so a Redis outage does not add seconds to every write; the sweep asks again anyway.
RETRY_REQUEST_AFTER = 10.0
SLOW_FAILURE = 0.5
_failed_at: float | None = None


def request_delivery() -> bool:
    """Ask for a delivery job; False when Redis cannot be reached (the sweep will ask again)."""
    global _failed_at
    if _failed_at is not None and time.monotonic() - _failed_at < RETRY_REQUEST_AFTER:
        return False
    started = time.monotonic()
    try:
        queue.enqueue_delivery()
    except queue.RedisUnavailable as exc:
        if time.monotonic() - started > SLOW_FAILURE:
            _failed_at = time.monotonic()
        log.info("delivery not requested (%s): the periodic sweep requests it", exc)
        return False
    _failed_at = None
    return True
