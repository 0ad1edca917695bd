"""Ad-platform connections, the campaign mapping, pushes of campaign changes and pulls of hourly spend
(docs/connectors.md). The HTTP lives in app.connectors; this module stores and decides.

Connections: a brand's ad account on one platform, its credentials encrypted with a Fernet key from the
environment (PACER_CONNECTOR_KEY) and never shown again; dry run on for a new one.

Pushes: the outbox's campaign changes fan out to the platform campaigns linked to the campaign (one
PlatformPush per link and event, keyed so a second run adds nothing), then are sent like webhooks: a
lease per attempt, in order per campaign and link, retries with exponential backoff and jitter for the
retry window, a platform's Retry-After (or its rate-limit wait) honoured, a permanent refusal or the end
of the window marking the link out of sync with the reason. A change of reasons only (the state is the
same) is recorded as skipped: there is nothing to send. In dry run the request is logged, not sent.

Pulls: each connection's hourly spend from its last successful pull (at most CATCH_UP days back) and
always the last RESTATE hours, written as period rows (campaign, hour) through the one spend path,
then enforced like any other write.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session, joinedload

from app.connectors import PLATFORMS, ConnectorError, PlatformSettings, RateLimited, connector_for, platform
from app.connectors.base import Connector
from app.connectors.convert import ConversionError, brand_hour, hour_start, to_minor_units
from app.control import local_day
from app.database import upsert_insert
from app.ingest.dedupe import period_key
from app.models import (
    Brand,
    Campaign,
    CampaignPlatformLink,
    OutboxEvent,
    PlatformConnection,
    PlatformPush,
)
from app.services import delivery_queue
from app.services.delivery_queue import claim
from app.services.outbox import CAMPAIGN_PAUSED, CAMPAIGN_RESUMED, campaign_ordering_key, mark_dispatched
from app.services.spend import NewSpend, write_spend
from app.services.webhooks import backoff

log = logging.getLogger(__name__)

ERROR_MAX = 500
DISPATCH_BATCH = 500
PUSH_BATCH = 200
PLATFORM_ID_MAX = 40
KEY_ENV = "PACER_CONNECTOR_KEY"


class PlatformError(ValueError):
    """Invalid input for a connection or a mapping; ``field`` names the form field, the message is a sentence."""

    def __init__(self, message: str, field: str = "account_id") -> None:
        super().__init__(message)
        self.field = field


class KeyMissing(RuntimeError):
    """PACER_CONNECTOR_KEY is unset or not a Fernet key: credentials can be neither stored nor read."""


# --- settings and credentials ----------------------------------------------------------------


@dataclass(frozen=True)
class ConnectorSettings:
    """How connectors are reached and retried; built from the app's config by the caller."""

    key: str | None = None
    platforms: dict[str, PlatformSettings] = field(default_factory=dict)
    timeout: float = 20.0
    backoff_base: float = 10.0
    retry_window: timedelta = timedelta(hours=6)
    restate: timedelta = timedelta(hours=48)
    catch_up: timedelta = timedelta(days=31)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.timeout * 3 + 15)  # an OAuth refresh and a call, with room

    @classmethod
    def from_config(cls, config) -> ConnectorSettings:
        timeout = float(config.get("CONNECTOR_TIMEOUT", 20))
        return cls(
            key=config.get("CONNECTOR_KEY"),
            platforms={
                "google_ads": PlatformSettings(
                    config["GOOGLE_ADS_BASE_URL"],
                    config["GOOGLE_ADS_VERSION"],
                    config["GOOGLE_OAUTH_TOKEN_URL"],
                    timeout,
                ),
                "meta": PlatformSettings(config["META_BASE_URL"], config["META_VERSION"], "", timeout),
            },
            timeout=timeout,
            backoff_base=float(config.get("CONNECTOR_BACKOFF_BASE", 10)),
            retry_window=timedelta(hours=float(config.get("CONNECTOR_RETRY_WINDOW_HOURS", 6))),
            restate=timedelta(hours=int(config.get("CONNECTOR_RESTATE_HOURS", 48))),
            catch_up=timedelta(days=int(config.get("CONNECTOR_CATCH_UP_DAYS", 31))),
        )


def _fernet(key: str | None) -> Fernet:
    if not key:
        raise KeyMissing(f"{KEY_ENV} is not set: ad-platform credentials cannot be encrypted or read.")
    try:
        return Fernet(key.encode())
    except (ValueError, TypeError):
        raise KeyMissing(f"{KEY_ENV} is not a Fernet key (32 url-safe base64-encoded bytes).") from None


def new_key() -> str:
    """A fresh key for PACER_CONNECTOR_KEY."""
    return Fernet.generate_key().decode()


def encrypt_credentials(credentials: dict, key: str | None) -> str:
    return _fernet(key).encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()


def decrypt_credentials(token: str, key: str | None) -> dict:
    try:
        return json.loads(_fernet(key).decrypt(token.encode()))
    except InvalidToken:
        raise KeyMissing(f"The stored credentials do not open with this {KEY_ENV} (was the key changed?).") from None


def key_problem(session: Session, key: str | None) -> str | None:
    """A sentence when connections exist and the key cannot read them (for /healthz and `flask health`)."""
    if not session.scalar(select(exists().where(PlatformConnection.id.is_not(None)))):
        return None
    try:
        _fernet(key)
    except KeyMissing as exc:
        return str(exc)
    return None


# --- connections -----------------------------------------------------------------------------


def save_connection(
    session: Session, brand_id: int, platform_name: str, account_id: str, credentials: dict, *, key: str | None
) -> PlatformConnection:
    """Add a connection (dry run on). Credentials are stripped, checked for the platform's required
    fields and stored encrypted. Raises PlatformError (or KeyMissing) before writing. Does not commit."""
    brand = session.get(Brand, brand_id)
    if brand is None or brand.archived_at is not None:
        raise LookupError(brand_id)
    try:
        spec = platform(platform_name)
    except ValueError as exc:
        raise PlatformError(str(exc), "platform") from None
    try:
        account = spec.normalise_account_id(account_id)
    except ValueError as exc:
        raise PlatformError(str(exc)) from None
    values = {name: (credentials.get(name) or "").strip() for name in spec.credential_fields}
    for name in spec.required_fields:
        if not values[name]:
            raise PlatformError(f"Enter the {name.replace('_', ' ')}: {spec.label} needs it.", name)
    duplicate = session.scalar(
        select(PlatformConnection.id).where(
            PlatformConnection.brand_id == brand_id,
            PlatformConnection.platform == spec.name,
            PlatformConnection.account_id == account,
        )
    )
    if duplicate:
        raise PlatformError(f"{brand.name} is already connected to {spec.label} account {account}.")
    connection = PlatformConnection(
        brand_id=brand_id,
        platform=spec.name,
        account_id=account,
        credentials_encrypted=encrypt_credentials({k: v for k, v in values.items() if v}, key),
        dry_run=True,
        state="new",
    )
    session.add(connection)
    session.flush()
    return connection


def credential_field_names() -> list[str]:
    """Every credential field of every platform, once each (the connection form shows them all)."""
    return list(dict.fromkeys(name for spec in PLATFORMS.values() for name in spec.credential_fields))


def _connection(session: Session, connection_id: int) -> PlatformConnection:
    connection = session.get(PlatformConnection, connection_id)
    if connection is None:
        raise LookupError(connection_id)
    return connection


def set_dry_run(session: Session, connection_id: int, dry_run: bool, now: datetime) -> int:
    """Turn dry run on or off. Pushes logged in dry run are not sent later; switching it off queues a
    resync of every mapped campaign instead (its state now), so the platform catches up at once.
    Returns the resyncs queued. Does not commit (the outbox listener does not see these: the caller asks
    for a delivery job)."""
    connection = _connection(session, connection_id)
    was, connection.dry_run = connection.dry_run, dry_run
    return resync(session, now, connection_id=connection.id) if was and not dry_run else 0


def resync(session: Session, now: datetime, *, connection_id: int | None = None, campaign_id: int | None = None) -> int:
    """Queue a push of each matching link's campaign state as it is now (after dry run, or to recover a
    campaign out of sync); it goes out in order after the link's pending pushes. Returns how many. Does not commit."""
    stmt = select(CampaignPlatformLink).options(joinedload(CampaignPlatformLink.campaign))
    if connection_id is not None:
        stmt = stmt.where(CampaignPlatformLink.connection_id == connection_id)
    if campaign_id is not None:
        stmt = stmt.where(CampaignPlatformLink.campaign_id == campaign_id)
    links = session.scalars(stmt).all()
    for link in links:
        session.add(
            PlatformPush(
                link_id=link.id,
                connection_id=link.connection_id,
                outbox_id=None,
                ordering_key=campaign_ordering_key(link.campaign_id),
                wanted_state=link.campaign.status,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        link.sync_state, link.sync_reason = "pending", None
    session.flush()
    return len(links)


def delete_connection(session: Session, connection_id: int) -> None:
    """Delete a connection with its campaign links and their push log; spend it pulled stays. Does not commit."""
    connection = _connection(session, connection_id)
    link_ids = select(CampaignPlatformLink.id).where(CampaignPlatformLink.connection_id == connection.id)
    session.execute(PlatformPush.__table__.delete().where(PlatformPush.link_id.in_(link_ids)))
    session.execute(CampaignPlatformLink.__table__.delete().where(CampaignPlatformLink.connection_id == connection.id))
    session.delete(connection)


def client(settings: ConnectorSettings) -> httpx.Client:
    return httpx.Client(timeout=settings.timeout, follow_redirects=False, trust_env=False)


ConnectorFactory = Callable[[PlatformConnection], Connector]


def connector_factory(settings: ConnectorSettings, http: httpx.Client) -> ConnectorFactory:
    """Build each connection's connector once (its OAuth token is reused within a pass)."""
    built: dict[int, Connector] = {}

    def build(connection: PlatformConnection) -> Connector:
        if connection.id not in built:
            credentials = decrypt_credentials(connection.credentials_encrypted, settings.key)
            built[connection.id] = connector_for(
                connection.platform, credentials, connection.account_id, settings.platforms[connection.platform], http
            )
        return built[connection.id]

    return build


def _account_problem(brand: Brand, time_zone: str, currency: str) -> str | None:
    if currency and currency != brand.currency:
        return (
            f"The account's currency is {currency} and the brand's is {brand.currency}: Pacer does not convert "
            "currencies, so its spend cannot be pulled."
        )
    try:
        ZoneInfo(time_zone)
    except (ValueError, KeyError):
        return f"The account's time zone {time_zone!r} is not one Pacer knows."
    return None


def test_connection(session: Session, connection_id: int, now: datetime, build: ConnectorFactory) -> str:
    """Ask the platform for the account (name, zone, currency) and record the outcome on the connection;
    returns a sentence for people. Does not commit."""
    connection = _connection(session, connection_id)
    connection.last_tested_at = now
    try:
        info = build(connection).account_info()
    except (ConnectorError, KeyMissing) as exc:
        connection.state, connection.state_reason = "error", str(exc)[:ERROR_MAX]
        return f"The test failed: {exc}"
    connection.account_name = info.name[:200] or None
    connection.account_timezone, connection.account_currency = info.time_zone or None, info.currency or None
    problem = _account_problem(connection.brand, info.time_zone, info.currency)
    connection.state, connection.state_reason = ("error", problem) if problem else ("ok", None)
    label = PLATFORMS[connection.platform].label
    if problem:
        return f"{label} answered, but: {problem}"
    return f"{label} answered: account “{info.name}”, time zone {info.time_zone}, currency {info.currency}."


@dataclass(frozen=True)
class ConnectionRow:
    connection: PlatformConnection
    label: str
    links: int
    out_of_sync: int


def connection_rows(session: Session, brand_id: int) -> list[ConnectionRow]:
    """A brand's connections with their link counts, oldest first."""
    counts = {
        (cid, state): int(n)
        for cid, state, n in session.execute(
            select(CampaignPlatformLink.connection_id, CampaignPlatformLink.sync_state, func.count())
            .join(PlatformConnection, PlatformConnection.id == CampaignPlatformLink.connection_id)
            .where(PlatformConnection.brand_id == brand_id)
            .group_by(CampaignPlatformLink.connection_id, CampaignPlatformLink.sync_state)
        )
    }
    rows = []
    for c in session.scalars(
        select(PlatformConnection).where(PlatformConnection.brand_id == brand_id).order_by(PlatformConnection.id)
    ):
        total = sum(n for (cid, _), n in counts.items() if cid == c.id)
        rows.append(ConnectionRow(c, PLATFORMS[c.platform].label, total, counts.get((c.id, "out_of_sync"), 0)))
    return rows


# --- the campaign mapping --------------------------------------------------------------------


def _platform_campaign_id(text: str) -> str:
    value = (text or "").strip()
    if not value.isdigit() or len(value) > PLATFORM_ID_MAX:
        raise PlatformError("A platform campaign id is its number, e.g. 12345678901.", "platform_campaign_id")
    return value


def link_campaign(session: Session, campaign_id: int, connection_id: int, platform_campaign_id: str) -> str:
    """Set (or with an empty id, remove) a campaign's id on a connection of its brand; returns what was done.
    Raises PlatformError before writing. Does not commit."""
    campaign = session.get(Campaign, campaign_id)
    connection = session.get(PlatformConnection, connection_id)
    if campaign is None or connection is None:
        raise LookupError((campaign_id, connection_id))
    if connection.brand_id != campaign.brand_id:
        raise PlatformError("That connection belongs to another brand.", "connection_id")
    link = session.scalar(
        select(CampaignPlatformLink).where(
            CampaignPlatformLink.campaign_id == campaign.id, CampaignPlatformLink.connection_id == connection.id
        )
    )
    if not (platform_campaign_id or "").strip():
        if link is None:
            return "unchanged"
        session.execute(PlatformPush.__table__.delete().where(PlatformPush.link_id == link.id))
        session.delete(link)
        return "removed"
    value = _platform_campaign_id(platform_campaign_id)
    taken = session.scalar(
        select(Campaign.name)
        .join(CampaignPlatformLink, CampaignPlatformLink.campaign_id == Campaign.id)
        .where(
            CampaignPlatformLink.connection_id == connection.id,
            CampaignPlatformLink.platform_campaign_id == value,
            CampaignPlatformLink.campaign_id != campaign.id,
        )
    )
    if taken:
        raise PlatformError(f"Platform campaign {value} is already linked to “{taken}”.", "platform_campaign_id")
    if link is None:
        session.add(
            CampaignPlatformLink(campaign_id=campaign.id, connection_id=connection.id, platform_campaign_id=value)
        )
        session.flush()
        return "linked"
    if link.platform_campaign_id != value:
        link.platform_campaign_id, link.sync_state, link.sync_reason = value, "unknown", None
        return "changed"
    return "unchanged"


MAPPING_COLUMNS = ("brand", "campaign", "platform", "account_id", "platform_campaign_id")


@dataclass
class MappingImport:
    linked: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def import_mapping(session: Session, text: str) -> MappingImport:
    """A mapping CSV (brand,campaign,platform,account_id,platform_campaign_id; an empty id removes the
    link): every row is checked, and the file is applied whole or, with any bad row, not at all (the
    errors name their lines; the caller rolls back). Does not commit."""
    result = MappingImport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in MAPPING_COLUMNS if c not in header]
    if missing:
        result.errors.append(f"line 1: the header lacks {', '.join(missing)} (want {','.join(MAPPING_COLUMNS)})")
        return result
    reader.fieldnames = header
    for line, row in enumerate(reader, start=2):
        values = {k: (row.get(k) or "").strip() for k in MAPPING_COLUMNS}
        brand = session.scalar(select(Brand).where(Brand.name == values["brand"], Brand.archived_at.is_(None)))
        campaign = brand and session.scalar(
            select(Campaign).where(Campaign.brand_id == brand.id, Campaign.name == values["campaign"])
        )
        if brand is None:
            result.errors.append(f"line {line}: no brand is named “{values['brand']}”")
            continue
        if campaign is None:
            result.errors.append(f"line {line}: {brand.name} has no campaign “{values['campaign']}”")
            continue
        try:
            spec = platform(values["platform"])
            account = spec.normalise_account_id(values["account_id"])
        except ValueError as exc:
            result.errors.append(f"line {line}: {exc}")
            continue
        connection_id = session.scalar(
            select(PlatformConnection.id).where(
                PlatformConnection.brand_id == brand.id,
                PlatformConnection.platform == spec.name,
                PlatformConnection.account_id == account,
            )
        )
        if connection_id is None:
            result.errors.append(f"line {line}: {brand.name} has no {spec.label} connection to account {account}")
            continue
        try:
            outcome = link_campaign(session, campaign.id, connection_id, values["platform_campaign_id"])
        except PlatformError as exc:
            result.errors.append(f"line {line}: {exc}")
            continue
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


@dataclass(frozen=True)
class CampaignLinkRow:
    connection: PlatformConnection
    label: str
    link: CampaignPlatformLink | None
    last_push: PlatformPush | None


def campaign_links(session: Session, campaign: Campaign) -> list[CampaignLinkRow]:
    """The campaign's brand's connections, each with the campaign's link and its latest push."""
    links = {
        link.connection_id: link
        for link in session.scalars(select(CampaignPlatformLink).where(CampaignPlatformLink.campaign_id == campaign.id))
    }
    rows = []
    for connection in session.scalars(
        select(PlatformConnection)
        .where(PlatformConnection.brand_id == campaign.brand_id)
        .order_by(PlatformConnection.id)
    ):
        link = links.get(connection.id)
        last = link and session.scalar(
            select(PlatformPush).where(PlatformPush.link_id == link.id).order_by(PlatformPush.id.desc()).limit(1)
        )
        rows.append(CampaignLinkRow(connection, PLATFORMS[connection.platform].label, link, last or None))
    return rows


def push_history(session: Session, campaign_id: int, limit: int = 20) -> list[PlatformPush]:
    """The campaign's latest pushes with the platforms' answers, newest first."""
    return list(
        session.scalars(
            select(PlatformPush)
            .join(CampaignPlatformLink, CampaignPlatformLink.id == PlatformPush.link_id)
            .where(CampaignPlatformLink.campaign_id == campaign_id)
            .options(joinedload(PlatformPush.connection))
            .order_by(PlatformPush.id.desc())
            .limit(limit)
        )
    )


def out_of_sync(session: Session, brand_id: int | None = None) -> list[tuple[CampaignPlatformLink, Campaign]]:
    """Links marked out of sync (a push failed for good), with their campaigns, for the overview and pages."""
    stmt = (
        select(CampaignPlatformLink, Campaign)
        .join(Campaign, Campaign.id == CampaignPlatformLink.campaign_id)
        .where(CampaignPlatformLink.sync_state == "out_of_sync")
        .options(joinedload(CampaignPlatformLink.connection))
        .order_by(Campaign.brand_id, Campaign.name)
    )
    if brand_id is not None:
        stmt = stmt.where(Campaign.brand_id == brand_id)
    return [(link, campaign) for link, campaign in session.execute(stmt.limit(200))]


# --- pushes ----------------------------------------------------------------------------------


def dispatch_pushes(session: Session, now: datetime) -> int:
    """Fan the undispatched campaign changes out to the platform campaigns linked to them: one push per
    link and event, keyed (link, event), so a second run adds nothing. Commits; returns the pushes added."""
    added = 0
    while True:
        events = session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.platforms_dispatched_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(DISPATCH_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if not events:
            return added
        changes = [e for e in events if e.type in (CAMPAIGN_PAUSED, CAMPAIGN_RESUMED) and e.campaign_id]
        links: dict[int, list[CampaignPlatformLink]] = {}
        if changes:
            for link in session.scalars(
                select(CampaignPlatformLink).where(
                    CampaignPlatformLink.campaign_id.in_({e.campaign_id for e in changes})
                )
            ):
                links.setdefault(link.campaign_id, []).append(link)
        rows, pending_links = [], set()
        for event in changes:
            if not links.get(event.campaign_id):
                continue
            data = event.payload["data"]
            wanted = data["current"]["status"]
            unchanged = data["previous"]["status"] == wanted
            for link in links[event.campaign_id]:
                rows.append(
                    {
                        "link_id": link.id,
                        "connection_id": link.connection_id,
                        "outbox_id": event.id,
                        "ordering_key": event.ordering_key,
                        "wanted_state": wanted,
                        "status": "skipped" if unchanged else "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
                if not unchanged:
                    pending_links.add(link.id)
        if rows:
            table = PlatformPush.__table__
            result = session.execute(
                upsert_insert(session, table)
                .on_conflict_do_nothing(index_elements=["link_id", "outbox_id"])
                .returning(table.c.id),
                rows,
            )
            added += len(result.all())
        if pending_links:
            session.execute(
                update(CampaignPlatformLink)
                .where(CampaignPlatformLink.id.in_(pending_links))
                .values(sync_state="pending", sync_reason=None)
            )
        mark_dispatched(session, events, OutboxEvent.platforms_dispatched_at, now)
        session.commit()


# Pushes of one campaign link go one at a time, oldest first.
_QUEUE = {"keys": ("link_id",), "limit": PUSH_BATCH}


def _due(session: Session, now: datetime) -> list[int]:
    return delivery_queue.due_ids(session, PlatformPush, now, **_QUEUE)


@dataclass
class PushRun:
    """What one :func:`push_due` pass did."""

    dispatched: int = 0
    delivered: int = 0
    dry_run: int = 0
    retrying: int = 0
    given_up: int = 0
    next_due: datetime | None = None


def next_push_due(session: Session) -> datetime | None:
    return delivery_queue.next_due_at(session, PlatformPush, **_QUEUE)


def has_push_work(session: Session, until: datetime) -> bool:
    """True when a campaign change waits to be fanned out or a push falls due by ``until``."""
    return delivery_queue.has_work(session, OutboxEvent.platforms_dispatched_at, PlatformPush, until, **_QUEUE)


def _fail(push: PlatformPush, now: datetime, reason: str) -> None:
    push.status = "failed"
    link = push.link
    link.sync_state, link.sync_reason, link.synced_at = "out_of_sync", reason[:ERROR_MAX], None


def push_due(
    session: Session,
    now: datetime,
    settings: ConnectorSettings,
    *,
    build: ConnectorFactory | None = None,
    rng: random.Random | None = None,
    clock: Callable[[], datetime] | None = None,
) -> PushRun:
    """Fan out new campaign changes, then send every push due at ``now``, in order per link; each attempt
    claimed, sent and recorded in transactions of its own. Idempotent; safe to run concurrently."""
    rng = rng or random.Random()
    clock = clock or (lambda: now)
    run = PushRun(dispatched=dispatch_pushes(session, now))
    with client(settings) as http:
        build = build or connector_factory(settings, http)
        tried: set[int] = set()
        throttled: set[int] = set()  # connections that asked Pacer to wait: nothing more to them this pass
        while True:
            due = [p for p in _due(session, now) if p not in tried]
            session.commit()
            if not due:
                break
            for push_id in due:
                tried.add(push_id)
                push = session.get(PlatformPush, push_id)
                if (
                    push is None
                    or push.connection_id in throttled
                    or not claim(session, PlatformPush, push_id, now, settings.lease)
                ):
                    continue
                push = session.scalars(
                    select(PlatformPush)
                    .where(PlatformPush.id == push_id)
                    .options(joinedload(PlatformPush.link), joinedload(PlatformPush.connection))
                ).one()
                outcome = _attempt(session, push, build, settings, clock, rng)
                setattr(run, outcome, getattr(run, outcome) + 1)
                if outcome == "retrying":
                    tried.update(_later_of_link(session, push))
                    if push.last_status_code == 429 or (push.last_error or "").startswith("rate limited"):
                        throttled.add(push.connection_id)
    run.next_due = next_push_due(session)
    session.commit()
    return run


def _attempt(
    session: Session,
    push: PlatformPush,
    build: ConnectorFactory,
    settings: ConnectorSettings,
    clock: Callable[[], datetime],
    rng: random.Random,
) -> str:
    """Send one push (or log it, in dry run) and record the outcome; commits. Returns the PushRun field."""
    connection, link = push.connection, push.link
    started = clock()
    push.attempts += 1
    push.first_attempt_at = push.first_attempt_at or started
    push.last_attempt_at, push.leased_until = started, None
    session.commit()  # the attempt is counted before the network wait
    try:
        connector = build(connection)
        request = connector.describe_apply(link.platform_campaign_id, push.wanted_state)
        push.request_json = json.dumps(request, sort_keys=True)
        if connection.dry_run:
            push.status, push.answer = "dry_run", "dry run: not sent"
            link.sync_state, link.sync_reason = "unknown", "dry run: pushes are logged, not sent"
            log.info("dry run, not sent: %s", push.request_json)
            session.commit()
            return "dry_run"
        result = connector.apply(link.platform_campaign_id, push.wanted_state)
    except (ConnectorError, KeyMissing) as exc:
        if isinstance(exc, KeyMissing):  # configuration, not the platform: retried until the key is set
            exc = ConnectorError(str(exc))
        now = clock()
        push.last_status_code, push.answer = exc.status_code, exc.answer or None
        if isinstance(exc, RateLimited):
            push.last_error = f"rate limited: {exc}"[:ERROR_MAX]
        else:
            push.last_error = str(exc)[:ERROR_MAX]
        give_up_at = push.first_attempt_at + settings.retry_window
        if exc.permanent or now >= give_up_at:
            _fail(
                push,
                now,
                f"{'refused' if exc.permanent else 'gave up after ' + str(push.attempts) + ' attempts'}: {exc}",
            )
            session.commit()
            return "given_up"
        wait = backoff(push.attempts, settings.backoff_base, rng)
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            wait = max(wait, timedelta(seconds=exc.retry_after))
        push.next_attempt_at = now + wait
        link.sync_state, link.sync_reason = "pending", push.last_error
        session.commit()
        return "retrying"
    now = clock()
    push.status, push.delivered_at = "delivered", now
    push.last_status_code, push.answer, push.last_error = result.status_code, result.answer, None
    link.sync_state, link.sync_reason, link.synced_at = "in_sync", None, now
    session.commit()
    return "delivered"


def _later_of_link(session: Session, push: PlatformPush) -> list[int]:
    return list(
        session.scalars(
            select(PlatformPush.id).where(
                PlatformPush.link_id == push.link_id, PlatformPush.id > push.id, PlatformPush.status == "pending"
            )
        )
    )


# --- pulls -----------------------------------------------------------------------------------


@dataclass
class PullResult:
    connection_id: int
    ok: bool
    rows: int = 0  # hour rows the platform returned
    written: int = 0  # hour figures new to Pacer
    restated: int = 0  # hour figures that replaced a different earlier figure (raised or lowered)
    unmapped: int = 0  # rows of platform campaigns not linked to a Pacer campaign
    # Hours refused because Pacer keeps that campaign's day as one day figure (an uploaded daily report):
    # counting the platform's hours too would count the money twice (app.services.spend.write_periods).
    refused: int = 0
    since: datetime | None = None
    until: datetime | None = None
    error: str | None = None
    brand_ids: set[int] = field(default_factory=set)

    def summary(self) -> dict:
        return {
            "connection_id": self.connection_id,
            "ok": self.ok,
            "rows": self.rows,
            "written": self.written,
            "restated": self.restated,
            "unmapped": self.unmapped,
            "refused": self.refused,
            "error": self.error,
        }


def pull_window(
    connection: PlatformConnection, now: datetime, settings: ConnectorSettings
) -> tuple[datetime, datetime]:
    """From the last successful pull (or the catch-up limit), and never later than the restated hours."""
    earliest = now - settings.catch_up
    since = min(connection.last_pull_at or earliest, now - settings.restate)
    return max(since, earliest), now


def pull_connection(
    session: Session, connection_id: int, now: datetime, settings: ConnectorSettings, build: ConnectorFactory
) -> PullResult:
    """Read a connection's hourly spend for its pull window and write it as hour rows (source 'pull',
    dedupe key ``period_key(campaign, "hour", start)``) through the one spend path; the brand is named for
    enforcement. A failed read writes nothing and leaves ``last_pull_at`` where it was, so the next pull
    catches up. Does not commit (the caller commits with commit_and_enforce)."""
    connection = _connection(session, connection_id)
    brand = connection.brand
    since, until = pull_window(connection, now, settings)
    result = PullResult(connection.id, ok=False, since=since, until=until)
    connection.last_pull_attempt_at = now
    try:
        connector = build(connection)
        if not connection.account_timezone or not connection.account_currency:
            info = connector.account_info()
            connection.account_timezone, connection.account_currency = info.time_zone, info.currency
            connection.account_name = info.name[:200] or None
        problem = _account_problem(brand, connection.account_timezone, connection.account_currency)
        if problem:
            raise ConversionError(problem)
        zone = ZoneInfo(connection.account_timezone)
        hours = connector.fetch_spend(
            connection.account_id, since.astimezone(zone).date(), until.astimezone(zone).date()
        )
        links = {
            link.platform_campaign_id: link.campaign_id
            for link in session.scalars(
                select(CampaignPlatformLink).where(CampaignPlatformLink.connection_id == connection.id)
            )
        }
        brand_zone = ZoneInfo(brand.timezone)
        records = []
        for hour in hours:
            result.rows += 1
            campaign_id = links.get(hour.platform_campaign_id)
            if campaign_id is None:
                result.unmapped += 1
                continue
            start = brand_hour(hour_start(hour.day, hour.hour, connection.account_timezone), brand.timezone)
            if start > now:
                continue
            records.append(
                NewSpend(
                    campaign_id=campaign_id,
                    brand_id=brand.id,
                    amount_minor=to_minor_units(hour.amount, brand.currency),
                    spent_at=start,
                    local_date=local_day(start, brand_zone),
                    source="pull",
                    dedupe_key=period_key(campaign_id, "hour", start),
                    period="hour",
                )
            )
    except (ConnectorError, ConversionError, KeyMissing) as exc:
        connection.state, connection.state_reason = "error", f"pull failed: {exc}"[:ERROR_MAX]
        result.error = str(exc)[:ERROR_MAX]
        return result
    written = write_spend(session, records)
    result.written, result.brand_ids, result.ok = written.inserted, written.brand_ids, True
    result.restated, result.refused = written.replaced + written.corrected, len(written.mixed)
    connection.last_pull_at, connection.state, connection.state_reason = until, "ok", None
    if written.mixed:
        first, why = written.mixed[0]
        connection.state_reason = (
            f"{len(written.mixed)} pulled hour figure(s) not counted, e.g. {first.local_date}: {why}"
        )[:ERROR_MAX]
    return result


def pullable_connections(session: Session) -> list[int]:
    """Every connection of a live brand, oldest first (each is pulled by a job of its own)."""
    return list(
        session.scalars(
            select(PlatformConnection.id)
            .join(Brand, Brand.id == PlatformConnection.brand_id)
            .where(Brand.archived_at.is_(None))
            .order_by(PlatformConnection.id)
        )
    )
