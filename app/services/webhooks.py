"""Webhook endpoints and the delivery of the outbox to them (Standard Webhooks, docs/webhooks.md).

Endpoints: a URL checked against server-side request forgery (https in production; private,
loopback, link-local and other non-public addresses refused unless allowed), a secret generated
here and shown once, the brands and event types it wants, an enabled switch.

Delivery is at least once, keyed in the database: each outbox event becomes one WebhookDelivery
per subscribed endpoint (:func:`dispatch`), and :func:`deliver_due` sends what is due, signed with
``standardwebhooks``, with the event's stable id as ``webhook-id``. An attempt holds a lease, so a
worker killed mid-send leaves the delivery to be sent again once the lease ends. A failed attempt
is retried with exponential backoff and jitter for the retry window (about a day), then the
delivery is given up (kept, with "redeliver") and its endpoint marked failing. Events with the same
ordering key (one campaign; one brand's alerts) reach an endpoint in order: a delivery waits while
an earlier one of its key is pending.
"""

from __future__ import annotations

import base64
import ipaddress
import random
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload
from standardwebhooks.webhooks import Webhook

from app.database import upsert_insert
from app.models import Brand, OutboxEvent, WebhookDelivery, WebhookEndpoint
from app.services import delivery_queue
from app.services.delivery_queue import claim
from app.services.outbox import EVENT_TYPES, TEST_EVENT, add_event, iso, mark_dispatched

URL_MAX = 2000
DESCRIPTION_MAX = 200
RESPONSE_EXCERPT = 500  # characters of a receiver's answer kept in the delivery log
ERROR_MAX = 500
MAX_DELAY = timedelta(hours=4)  # the longest wait between two attempts
DISPATCH_BATCH = 500
DELIVERY_BATCH = 200
USER_AGENT = "Pacer-Webhooks/1"


class WebhookError(ValueError):
    """Invalid endpoint input; ``field`` names the form field, the message is a sentence."""

    def __init__(self, message: str, field: str = "url") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DeliverySettings:
    """How deliveries are made; built from the app's config by the caller."""

    timeout: float = 10.0  # seconds for one HTTP request
    backoff_base: float = 10.0  # seconds before the first retry; doubles each attempt
    retry_window: timedelta = timedelta(hours=24)  # from the first attempt; then the delivery is given up
    allow_private: bool = False
    production: bool = False

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.timeout + 15)

    @classmethod
    def from_config(cls, config) -> DeliverySettings:
        """From the app's config mapping (app.config: WEBHOOK_*, PACER_ENV)."""
        return cls(
            timeout=float(config.get("WEBHOOK_TIMEOUT", 10)),
            backoff_base=float(config.get("WEBHOOK_BACKOFF_BASE", 10)),
            retry_window=timedelta(hours=float(config.get("WEBHOOK_RETRY_WINDOW_HOURS", 24))),
            allow_private=bool(config.get("WEBHOOK_ALLOW_PRIVATE")),
            production=config.get("PACER_ENV") == "production",
        )


# --- addresses (server-side request forgery) --------------------------------------------------

Resolver = Callable[[str, int], Iterable[str]]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, production: bool, allow_private: bool, resolve: Resolver = resolve_host) -> str:
    """The URL, stripped, if Pacer may send to it; else WebhookError with a sentence.

    https is required in production (http is allowed elsewhere, for local receivers). The host is
    resolved and every address must be public (not private, loopback, link-local, multicast or
    reserved) unless ``allow_private``; checked when an endpoint is saved and again before each send.
    """
    url = (url or "").strip()
    if not url:
        raise WebhookError("Enter the receiver's URL, e.g. https://hooks.example.com/pacer.")
    if len(url) > URL_MAX:
        raise WebhookError(f"The URL is too long: at most {URL_MAX} characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookError("Enter a full http(s) URL, e.g. https://hooks.example.com/pacer.")
    if parts.scheme != "https" and production:
        raise WebhookError("Use an https URL: webhooks carry signed business data and are sent over TLS only.")
    if parts.username or parts.password:
        raise WebhookError("Leave credentials out of the URL: every request is signed with the endpoint's secret.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookError("The URL's port is not a number between 0 and 65535.") from None
    if allow_private:
        return url
    try:
        addresses = list(resolve(parts.hostname, port))
    except (OSError, UnicodeError):
        raise WebhookError(f"The host “{parts.hostname}” could not be resolved.") from None
    refused = [a for a in addresses if not _public(a)]
    if refused or not addresses:
        raise WebhookError(
            f"The host “{parts.hostname}” resolves to a private, loopback or link-local address "
            f"({', '.join(refused) or 'none'}): Pacer only sends to public addresses."
        )
    return url


# --- endpoints -------------------------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _event_types(types: Iterable[str]) -> str:
    chosen = sorted(set(types))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise WebhookError(
            f"Unknown event type {', '.join(unknown)}; the types are {', '.join(EVENT_TYPES)}.", "event_types"
        )
    return ",".join(chosen)


def _brand_ids(session: Session, brand_ids: Iterable[int]) -> str:
    chosen = sorted(set(brand_ids))
    known = set(session.scalars(select(Brand.id).where(Brand.id.in_(chosen)))) if chosen else set()
    missing = [b for b in chosen if b not in known]
    if missing:
        raise WebhookError(f"No brand has the id {', '.join(map(str, missing))}.", "brand_ids")
    return ",".join(map(str, chosen))


def save_endpoint(
    session: Session,
    endpoint_id: int | None,
    *,
    url: str,
    description: str = "",
    event_types: Iterable[str] = (),
    brand_ids: Iterable[int] = (),
    enabled: bool = True,
    settings: DeliverySettings,
    resolve: Resolver = resolve_host,
) -> tuple[WebhookEndpoint, str | None]:
    """Create (``endpoint_id`` None) or update an endpoint; empty event types or brands mean all.

    Returns the endpoint and, for a new one, its secret (shown once; rotate to get another).
    Raises WebhookError before writing anything. Does not commit.
    """
    url = check_url(url, production=settings.production, allow_private=settings.allow_private, resolve=resolve)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise WebhookError(f"Use at most {DESCRIPTION_MAX} characters.", "description")
    types, brands = _event_types(event_types), _brand_ids(session, brand_ids)
    secret = None
    if endpoint_id is None:
        secret = new_secret()
        endpoint = WebhookEndpoint(secret=secret)
        session.add(endpoint)
    else:
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None:
            raise LookupError(endpoint_id)
    endpoint.url, endpoint.description, endpoint.event_types, endpoint.brand_ids = url, description, types, brands
    endpoint.enabled = enabled
    session.flush()
    return endpoint, secret


def rotate_secret(session: Session, endpoint_id: int, now: datetime) -> str:
    """A new secret for the endpoint, effective for the next attempt; the old one stops signing. Does not commit."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise LookupError(endpoint_id)
    endpoint.secret = new_secret()
    endpoint.secret_rotated_at = now
    return endpoint.secret


def send_test_event(session: Session, endpoint_id: int, now: datetime) -> OutboxEvent:
    """A ``webhook.test`` event for this endpoint only, through the outbox like any other. Does not commit."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise LookupError(endpoint_id)
    return add_event(
        session,
        type=TEST_EVENT,
        occurred_at=now,
        ordering_key=f"test:{endpoint.id}",
        only_endpoint_id=endpoint.id,
        data={"endpoint": {"id": endpoint.id, "url": endpoint.url}, "message": "A test event from Pacer."},
    )


def redeliver(session: Session, delivery_id: int, now: datetime) -> WebhookDelivery:
    """Send a delivery again from now (delivered or given up alike), with a fresh retry window. Does not commit."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise LookupError(delivery_id)
    delivery.status, delivery.next_attempt_at, delivery.leased_until = "pending", now, None
    delivery.first_attempt_at = None
    return delivery


# --- delivery --------------------------------------------------------------------------------


def subscribed(endpoint: WebhookEndpoint, event: OutboxEvent) -> bool:
    if event.only_endpoint_id is not None:
        return event.only_endpoint_id == endpoint.id
    if not endpoint.enabled:
        return False
    types, brands = endpoint.event_type_list, endpoint.brand_id_list
    return (not types or event.type in types) and (not brands or event.brand_id in brands)


def dispatch(session: Session, now: datetime) -> int:
    """Fan the undispatched outbox events out to the endpoints subscribed now: one delivery each,
    keyed (endpoint, event), so a second run adds nothing. Commits; returns the deliveries added."""
    added = 0
    while True:
        events = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.dispatched_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(DISPATCH_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if not events:
            return added
        endpoints = session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
        rows = [
            {
                "endpoint_id": endpoint.id,
                "outbox_id": event.id,
                "ordering_key": event.ordering_key,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for event in events
            for endpoint in endpoints
            if subscribed(endpoint, event)
        ]
        if rows:
            table = WebhookDelivery.__table__
            result = session.execute(
                upsert_insert(session, table)
                .on_conflict_do_nothing(index_elements=["endpoint_id", "outbox_id"])
                .returning(table.c.id),
                rows,
            )
            added += len(result.all())
        mark_dispatched(session, events, OutboxEvent.dispatched_at, now)
        session.commit()


def backoff(attempt: int, base: float, rng: random.Random) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1, 2, ...): base x 2^(attempt-1), at most
    MAX_DELAY, with "equal jitter" (between half and all of it) so receivers are not hit in waves."""
    delay = min(base * 2 ** min(attempt - 1, 30), MAX_DELAY.total_seconds())
    return timedelta(seconds=delay / 2 + rng.uniform(0, delay / 2))


@dataclass(frozen=True)
class Attempt:
    """What one HTTP attempt came to."""

    ok: bool
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    excerpt: str | None = None


def signed_headers(secret: str, event_id: str, body: str, sent_at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for ``body`` sent at ``sent_at`` (whole seconds, UTC)."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, sent_at, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def send(
    endpoint: WebhookEndpoint,
    event: OutboxEvent,
    sent_at: datetime,
    settings: DeliverySettings,
    resolve: Resolver = resolve_host,
) -> Attempt:
    """POST the event to the endpoint once; any answer but 2xx, a timeout or a refused address is a failure."""
    body = event.payload_json
    try:
        check_url(endpoint.url, production=settings.production, allow_private=settings.allow_private, resolve=resolve)
    except WebhookError as exc:
        return Attempt(ok=False, error=f"not sent: {exc}"[:ERROR_MAX])
    started = time.monotonic()
    try:
        with httpx.Client(timeout=settings.timeout, follow_redirects=False, trust_env=False) as client:
            response = client.post(
                endpoint.url,
                content=body.encode(),
                headers=signed_headers(endpoint.secret, event.event_id, body, sent_at),
            )
    except httpx.HTTPError as exc:
        latency = int((time.monotonic() - started) * 1000)
        return Attempt(ok=False, latency_ms=latency, error=f"{type(exc).__name__}: {exc}"[:ERROR_MAX])
    latency = int((time.monotonic() - started) * 1000)
    ok = 200 <= response.status_code < 300
    return Attempt(
        ok=ok,
        status_code=response.status_code,
        latency_ms=latency,
        error=None if ok else f"HTTP {response.status_code}",
        excerpt=response.text[:RESPONSE_EXCERPT],
    )


def record_attempt(
    session: Session,
    delivery: WebhookDelivery,
    attempt: Attempt,
    now: datetime,
    settings: DeliverySettings,
    rng: random.Random,
) -> None:
    """Write an attempt's outcome: delivered, or the next try, or given up with the endpoint failing. Commits."""
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or now
    delivery.last_attempt_at, delivery.leased_until = now, None
    delivery.last_status_code, delivery.last_latency_ms = attempt.status_code, attempt.latency_ms
    delivery.last_error, delivery.response_excerpt = attempt.error, attempt.excerpt
    endpoint = delivery.endpoint
    if attempt.ok:
        delivery.status, delivery.delivered_at = "delivered", now
        endpoint.failing_since = endpoint.failing_reason = None
    else:
        give_up_at = delivery.first_attempt_at + settings.retry_window
        if now >= give_up_at:
            delivery.status = "failed"
            if endpoint.failing_since is None:
                endpoint.failing_since = now
            endpoint.failing_reason = (
                f"gave up on event {delivery.event.event_id} after {delivery.attempts} attempts: {attempt.error}"
            )[:ERROR_MAX]
        else:
            delivery.next_attempt_at = min(now + backoff(delivery.attempts, settings.backoff_base, rng), give_up_at)
    session.commit()


@dataclass
class DeliveryRun:
    """What one :func:`deliver_due` pass did."""

    dispatched: int = 0
    delivered: int = 0
    retrying: int = 0
    given_up: int = 0
    next_due: datetime | None = None  # the earliest pending attempt left (None: nothing pending)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "dispatched": self.dispatched,
            "delivered": self.delivered,
            "retrying": self.retrying,
            "given_up": self.given_up,
            "next_due": iso(self.next_due) if self.next_due else None,
        }


# Only enabled endpoints' deliveries go, and a test event's (it names its endpoint); per endpoint and ordering key.
_QUEUE = {
    "keys": ("endpoint_id", "ordering_key"),
    "limit": DELIVERY_BATCH,
    "joins": (
        (WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id),
        (OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_id),
    ),
    "where": (or_(WebhookEndpoint.enabled.is_(True), OutboxEvent.only_endpoint_id.is_not(None)),),
}


def _due(session: Session, now: datetime) -> list[int]:
    return delivery_queue.due_ids(session, WebhookDelivery, now, **_QUEUE)


def next_due(session: Session) -> datetime | None:
    """When the earliest pending delivery may be attempted (its lease counted), or None."""
    return delivery_queue.next_due_at(session, WebhookDelivery, **_QUEUE)


def has_work(session: Session, until: datetime) -> bool:
    """True when an event waits to be dispatched or a delivery falls due by ``until`` (a lease ending
    counts): the sweep then asks for a job."""
    return delivery_queue.has_work(session, OutboxEvent.dispatched_at, WebhookDelivery, until, **_QUEUE)


def deliver_due(
    session: Session,
    now: datetime,
    settings: DeliverySettings,
    *,
    rng: random.Random | None = None,
    clock: Callable[[], datetime] | None = None,
    resolve: Resolver = resolve_host,
) -> DeliveryRun:
    """Dispatch new events, then send every delivery due at ``now``, oldest first and in order per
    ordering key. Each attempt is claimed, sent and recorded in transactions of its own; ``clock``
    (default: ``now``) stamps each attempt, as a send takes time. Idempotent; safe to run concurrently.
    """
    rng = rng or random.Random()
    clock = clock or (lambda: now)
    run = DeliveryRun(dispatched=dispatch(session, now))
    tried: set[int] = set()
    while True:
        due = [d for d in _due(session, now) if d not in tried]
        session.commit()
        if not due:
            break
        for delivery_id in due:
            tried.add(delivery_id)
            if not claim(session, WebhookDelivery, delivery_id, now, settings.lease):
                continue
            delivery = session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .options(joinedload(WebhookDelivery.endpoint), joinedload(WebhookDelivery.event))
            ).one()
            attempt = send(delivery.endpoint, delivery.event, clock(), settings, resolve)
            session.commit()  # end the read before the network wait is recorded
            record_attempt(session, delivery, attempt, clock(), settings, rng)
            if attempt.ok:
                run.delivered += 1
            elif delivery.status == "failed":
                run.given_up += 1
            else:
                run.retrying += 1
                # Later events of this key must wait for this one: stop trying them in this pass.
                tried.update(_later_of_key(session, delivery))
    run.next_due = next_due(session)
    session.commit()
    return run


def _later_of_key(session: Session, delivery: WebhookDelivery) -> list[int]:
    return list(
        session.scalars(
            select(WebhookDelivery.id).where(
                WebhookDelivery.endpoint_id == delivery.endpoint_id,
                WebhookDelivery.ordering_key == delivery.ordering_key,
                WebhookDelivery.id > delivery.id,
                WebhookDelivery.status == "pending",
            )
        )
    )


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointRow:
    endpoint: WebhookEndpoint
    pending: int
    delivered: int
    failed: int


def endpoint_rows(session: Session) -> list[EndpointRow]:
    """Every endpoint with its deliveries counted by status, by id."""
    counts: dict[tuple[int, str], int] = {
        (endpoint_id, status): int(n)
        for endpoint_id, status, n in session.execute(
            select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count()).group_by(
                WebhookDelivery.endpoint_id, WebhookDelivery.status
            )
        )
    }
    return [
        EndpointRow(
            e, counts.get((e.id, "pending"), 0), counts.get((e.id, "delivered"), 0), counts.get((e.id, "failed"), 0)
        )
        for e in session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))
    ]


def deliveries_select(endpoint_id: int):
    """An endpoint's deliveries, newest first, with their events; for ``db.paginate``."""
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .options(joinedload(WebhookDelivery.event))
        .order_by(WebhookDelivery.id.desc())
    )


def failing_endpoints(session: Session) -> list[dict]:
    """The endpoints marked failing, for /healthz and the header (plain values)."""
    return [
        {"id": e.id, "url": e.url, "since": iso(e.failing_since), "reason": e.failing_reason}
        for e in session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.failing_since.is_not(None)).order_by(WebhookEndpoint.id)
        )
    ]


def undelivered_count(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "pending"))
        or 0
    )
