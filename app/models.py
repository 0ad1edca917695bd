"""Database models: thin typed records. The rules live in app.control and app.services.

Money is stored as integer minor units of the brand's currency; instants are
stored as naive UTC and read back as aware UTC (see UTCDateTime).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.control import CampaignFacts, Reason, Window
from app.extensions import db

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint.
BigId = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def utcnow() -> datetime:
    return datetime.now(UTC)


ROLES = ("viewer", "manager", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the id every session and remember cookie carries: raising it signs the user out everywhere.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (CheckConstraint("role in ('viewer', 'manager', 'admin')", name="role"),)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember cookie: ``"<id>:<generation>"``."""
        return f"{self.id}:{self.session_generation}"

    def end_sessions(self) -> None:
        """Invalidate every session and remember cookie issued to this user so far."""
        self.session_generation = (self.session_generation or 0) + 1

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def can(self, role: str) -> bool:
        """True if this user's role is ``role`` or above (viewer < manager < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)


class ApiToken(db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class LoginFailure(db.Model):
    """One failed sign-in, counted per account and per address by the login throttle.

    Kept in the database, not Redis, so every gunicorn worker and machine sees the same
    count and a Redis restart forgets nothing; rows older than the window are deleted as it goes.
    """

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # "account:<sha256 of the normalised email>" or "address:<client IP>".
    key: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index(None, "key", "at"),)


class Brand(db.Model):
    __tablename__ = "brand"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    daily_budget_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    monthly_budget_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Brand-local date of the last daily reset and first day of the month of the last monthly one:
    # the reset jobs key their effect on these, so a rerun or a second scheduler changes nothing.
    daily_reset_on: Mapped[date | None] = mapped_column(Date)
    monthly_reset_on: Mapped[date | None] = mapped_column(Date)
    # The next instant its campaigns can change state without new spend (app.control.next_change), set by
    # reconcile_brand: the minute's sweep visits only brands whose instant has come. None: not yet known (due).
    next_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Percentages of the daily and the monthly budget at which an alert fires, e.g. "80,100".
    alert_percents: Mapped[str] = mapped_column(String(64), default="80,100", server_default="80,100")

    campaigns: Mapped[list[Campaign]] = relationship(
        back_populates="brand", order_by="Campaign.name", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("daily_budget_minor >= 0", name="daily_budget_not_negative"),
        CheckConstraint("monthly_budget_minor >= 0", name="monthly_budget_not_negative"),
    )

    def __repr__(self) -> str:
        return f"<Brand {self.id} {self.name!r}>"


# The overview's name sort reads this index (case-insensitive order).
Index("ix_brand_lower_name", func.lower(Brand.name))


class Campaign(db.Model):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # The effective state, written only by the reconcile service.
    status: Mapped[str] = mapped_column(String(8), default="paused")
    reasons_text: Mapped[str] = mapped_column("reasons", String(100), default="")
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    brand: Mapped[Brand] = relationship(back_populates="campaigns")
    windows: Mapped[list[ScheduleWindow]] = relationship(
        back_populates="campaign",
        order_by="(ScheduleWindow.day_of_week, ScheduleWindow.start_minute)",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        UniqueConstraint("brand_id", "name"),
        CheckConstraint("status in ('active', 'paused')", name="status"),
        CheckConstraint("start_date is null or end_date is null or start_date <= end_date", name="flight_order"),
    )

    @property
    def reasons(self) -> list[str]:
        return self.reasons_text.split(",") if self.reasons_text else []

    @reasons.setter
    def reasons(self, value: list[str] | tuple[Reason, ...]) -> None:
        self.reasons_text = ",".join(str(reason) for reason in value)

    def schedule(self) -> tuple[Window, ...]:
        return tuple(Window(w.day_of_week, w.start_minute, w.end_minute) for w in self.windows)

    def facts(self) -> CampaignFacts:
        return CampaignFacts(
            enabled=self.enabled and self.archived_at is None,
            start_date=self.start_date,
            end_date=self.end_date,
            windows=self.schedule(),
        )

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.name!r} {self.status}>"


class CampaignAlias(db.Model):
    """Another name for a campaign in spend files: a platform's campaign name or id, as its exports write it.

    Per brand; an import resolves a campaign name by exact name, then ignoring case, then alias
    (app.ingest.csv_spend.CampaignDirectory). Written by app.services.aliases only.
    """

    __tablename__ = "campaign_alias"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))

    campaign: Mapped[Campaign] = relationship()

    __table_args__ = (UniqueConstraint("brand_id", "name"),)


class ScheduleWindow(db.Model):
    """One dayparting row: brand-local weekday and half-open [start, end) in minutes."""

    __tablename__ = "schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    day_of_week: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)

    campaign: Mapped[Campaign] = relationship(back_populates="windows")

    __table_args__ = (
        CheckConstraint("day_of_week between 0 and 6", name="day_of_week"),
        CheckConstraint(
            "start_minute >= 0 and start_minute < end_minute and end_minute <= 1440"
            " and start_minute % 15 = 0 and end_minute % 15 = 0",
            name="quarter_hour_window",
        ),
    )


class SpendImport(db.Model):
    """One uploaded (or CLI-imported) spend file and its outcome."""

    __tablename__ = "spend_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    stored_path: Mapped[str | None] = mapped_column(String(500))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor: Mapped[str] = mapped_column(String(120))
    skip_bad_rows: Mapped[bool] = mapped_column(Boolean, default=False)
    # queued -> running -> done | rejected (bad rows, all-or-nothing) | failed (crash)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    # Period rows (a platform's day or hour figures) whose stored figure this import raised (replaced),
    # lowered (corrected), or left as it was (unchanged: the same figure, or a later one already stored).
    replaced: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    corrected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    brands_affected: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The RQ job of the latest attempt (none for CLI runs, or while Redis was unreachable).
    job_id: Mapped[str | None] = mapped_column(String(64))
    # "host pid-namespace pid" of the process running the latest attempt: a dead one means a crashed run.
    runner: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set when the retention sweep deleted the stored file (services.imports.prune_uploads); the
    # file's header is kept so the rejected rows still download under their own columns.
    file_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    file_header: Mapped[str | None] = mapped_column(Text)
    # SQLite writes an import in committed batches: while set, spend_record rows of this import (all
    # with an id at least this) are stored but not counted; cleared when published or deleted.
    unpublished_from_id: Mapped[int | None] = mapped_column(BigInteger)
    # The report format the file is read in (app.ingest.formats: "pacer", a built-in platform layout, or a
    # saved SpendFormat's name); an upload whose layout is not recognised waits in status "mapping" with none.
    format_name: Mapped[str | None] = mapped_column(String(80))
    # The brand every row belongs to, when chosen on upload (a platform report names no brand of Pacer's).
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id"))

    user: Mapped[User | None] = relationship()
    errors: Mapped[list[SpendImportError]] = relationship(
        back_populates="spend_import", order_by="SpendImportError.line", cascade="all, delete-orphan"
    )


class SpendFormat(db.Model):
    """A saved column mapping: how to read a report layout Pacer does not know (app.services.spend_formats)."""

    __tablename__ = "spend_format"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # field -> the header name of its column, e.g. {"campaign": "Kampagne", "amount": "Kosten"}.
    mapping: Mapped[dict] = mapped_column(JSON)
    number_format: Mapped[str] = mapped_column(String(12))
    date_format: Mapped[str] = mapped_column(String(12))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SpendImportError(db.Model):
    """A rejected row of an import: its line number, a sentence, and the raw line."""

    __tablename__ = "spend_import_error"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("spend_import.id"))
    line: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text, default="")

    spend_import: Mapped[SpendImport] = relationship(back_populates="errors")

    __table_args__ = (Index(None, "import_id", "line"),)


class SpendRecord(db.Model):
    """One spend fact. Permanent: resets never delete it; only a brand's time zone change rewrites its local_date."""

    __tablename__ = "spend_record"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Indexes on spend_record are kept to the two that reads need: every index costs each imported row.
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    # Denormalised from the campaign so totals and brand pages need no join.
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    spent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The brand-local calendar date of spent_at, the day whose budget it counts against.
    local_date: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(8))
    external_id: Mapped[str | None] = mapped_column(String(200))
    # What makes a re-import add nothing: external id, or a fingerprint of the row (see app.ingest.dedupe).
    dedupe_key: Mapped[str] = mapped_column(String(80), unique=True)  # app.ingest.dedupe.DEDUPE_KEY_LENGTH
    import_id: Mapped[int | None] = mapped_column(ForeignKey("spend_import.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: an instant. "day" or "hour": a platform's figure for the brand-local period starting at spent_at,
    # rewritten in place by a later figure (app.services.spend.write_periods).
    period: Mapped[str | None] = mapped_column(String(4))
    # A period row's "when": its import's registration time, or the write's; the latest figure wins.
    figure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()

    __table_args__ = (
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        CheckConstraint("source in ('csv', 'api', 'manual', 'pull')", name="source"),
        CheckConstraint("period in ('day', 'hour')", name="period"),
        Index(None, "brand_id", "spent_at"),
    )


class BrandDaySpend(db.Model):
    """Running total of a brand's spend per brand-local day, kept in the same transaction as each write.

    Reconcile reads at most 31 of these rows per brand, so its cost does not grow with history.
    """

    __tablename__ = "brand_day_spend"

    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class BrandFigure(db.Model):
    """The overview's figures for one brand, kept by the writes that change them (app.services.figures):
    spend writes add to the day and month they belong to, reconcile_brand recomputes everything at its
    ``now`` (after each spend's enforcement, each settings change, and at the brand's local midnight, when
    the due sweep visits it). Figures of another local ``day`` or ``month`` than the reader's count as 0.

    Its own table, not brand columns: a spend write updates it without locking the brand row.
    """

    __tablename__ = "brand_figure"

    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date)  # the brand-local date spend_today belongs to
    spend_today: Mapped[int] = mapped_column(BigInteger, default=0)
    month: Mapped[date] = mapped_column(Date)  # the first of the brand-local month spend_month belongs to
    spend_month: Mapped[int] = mapped_column(BigInteger, default=0)
    # What month-to-date spend was multiplied by to project the month's end, as of the last refresh.
    projection_factor: Mapped[float] = mapped_column(Float, default=1.0)
    # The sort keys: shares of the budgets (1.0 for a zero budget), as the overview's bars show them.
    daily_share: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    monthly_share: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    projected_share: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    active: Mapped[int] = mapped_column(Integer, default=0)
    paused: Mapped[int] = mapped_column(Integer, default=0, index=True)
    # The overview's triage, as of the last refresh: the pacing state, and the paused campaigns by reason
    # (a campaign paused for two reasons counts under each); paused_budget counts each campaign once.
    pacing: Mapped[str] = mapped_column(String(16), default="not started", server_default="not started", index=True)
    paused_disabled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paused_flight: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paused_schedule: Mapped[int] = mapped_column(Integer, default=0, server_default="0", index=True)
    paused_daily: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paused_monthly: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paused_budget: Mapped[int] = mapped_column(Integer, default=0, server_default="0", index=True)


class BrandChange(db.Model):
    """When a brand's spend or settings last changed, so the sweep can catch up on it (app.services.changes).

    Its own table rather than a column on brand: marking a brand from a long write transaction
    must not lock the brand's row, which reconcile locks. No foreign key for the same reason
    (inserting a referencing row takes a share lock on the brand row); brands are archived, never deleted.
    """

    __tablename__ = "brand_change"

    brand_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SweepWatermark(db.Model):
    """The instant the last completed sweep covered every brand as of; kept in the database, not in
    Redis, so a catch-up after any outage knows where to start."""

    __tablename__ = "sweep_watermark"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    swept_as_of: Mapped[datetime] = mapped_column(UTCDateTime)


class CampaignEvent(db.Model):
    """Audit log: one row per change of a campaign's status or reasons, with the facts that decided it."""

    __tablename__ = "campaign_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    old_status: Mapped[str | None] = mapped_column(String(8))
    new_status: Mapped[str] = mapped_column(String(8))
    old_reasons: Mapped[str] = mapped_column(String(100), default="")
    new_reasons: Mapped[str] = mapped_column(String(100), default="")
    actor: Mapped[str] = mapped_column(String(120))
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)
    facts_json: Mapped[str] = mapped_column("facts", Text, default="{}")

    campaign: Mapped[Campaign] = relationship()
    brand: Mapped[Brand] = relationship()

    # (at, id): the newest events first with their ties in id order straight off the index (the overview's
    # latest actions, the activity log); a sweep writes thousands of events at one instant.
    __table_args__ = (
        Index(None, "at", "id"),
        Index(None, "brand_id", "at"),
        Index(None, "campaign_id", "at"),
    )

    @property
    def facts(self) -> dict[str, Any]:
        return json.loads(self.facts_json or "{}")

    @property
    def reasons(self) -> list[str]:
        return self.new_reasons.split(",") if self.new_reasons else []


class OutboxEvent(db.Model):
    """A decision leaving Pacer: written in the same transaction as the change it describes, so it
    exists if and only if that change committed (app.services.outbox). Never deleted by delivery.

    ``event_id`` is the Standard Webhooks ``webhook-id``: the same on every attempt and every
    destination, so receivers can dedupe. Events with the same ``ordering_key`` (one campaign, or
    one brand's alerts) are delivered to each destination in ``id`` order.
    """

    __tablename__ = "outbox_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    brand_id: Mapped[int | None] = mapped_column(Integer)
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    ordering_key: Mapped[str] = mapped_column(String(64))
    payload_json: Mapped[str] = mapped_column("payload", Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the event was fanned out to the endpoints subscribed then (None: not yet).
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Only this endpoint receives it (the "send test event" button), never the subscribers.
    only_endpoint_id: Mapped[int | None] = mapped_column(Integer)
    # When the event was fanned out to the ad-platform connections linked to its campaign (None: not yet).
    platforms_dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(None, "dispatched_at", "id"),
        Index(None, "brand_id", "id"),
        Index(None, "platforms_dispatched_at", "id"),
    )

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.payload_json)


class WebhookEndpoint(db.Model):
    """Where admins want events sent, with the secret that signs them (Standard Webhooks, whsec_...)."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(String(100))
    # Comma-separated event types and brand ids; empty means every one.
    event_types: Mapped[str] = mapped_column(String(200), default="")
    brand_ids: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when a delivery gave up after the retry window; cleared by the next success.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failing_reason: Mapped[str | None] = mapped_column(Text)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def event_type_list(self) -> list[str]:
        return [t for t in self.event_types.split(",") if t]

    @property
    def brand_id_list(self) -> list[int]:
        return [int(b) for b in self.brand_ids.split(",") if b]


class WebhookDelivery(db.Model):
    """One event for one endpoint: every attempt's outcome, and when to try again.

    pending -> delivered | failed (gave up after the retry window; "redeliver" makes it pending again).
    """

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id"))
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox_event.id"))
    ordering_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # An attempt in flight holds this lease; a worker killed mid-send leaves it to expire, then it is resent.
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_latency_ms: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship()
    event: Mapped[OutboxEvent] = relationship()

    __table_args__ = (
        UniqueConstraint("endpoint_id", "outbox_id"),
        CheckConstraint("status in ('pending', 'delivered', 'failed')", name="status"),
        Index(None, "status", "next_attempt_at"),
        Index(None, "endpoint_id", "ordering_key", "status"),
    )


class Alert(db.Model):
    """A brand's spend crossed a threshold (or its forecast its monthly budget) in one period.

    The unique key (brand, kind, percent, period) makes each fire once per period, whatever runs twice.
    """

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"))
    kind: Mapped[str] = mapped_column(String(16))  # daily | monthly | forecast
    percent: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(10))  # brand-local "2026-11-25" (daily) or "2026-11"
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    facts_json: Mapped[str] = mapped_column("facts", Text, default="{}")

    brand: Mapped[Brand] = relationship()

    __table_args__ = (
        UniqueConstraint("brand_id", "kind", "percent", "period"),
        CheckConstraint("kind in ('daily', 'monthly', 'forecast')", name="kind"),
        Index(None, "fired_at"),
    )

    @property
    def facts(self) -> dict[str, Any]:
        return json.loads(self.facts_json or "{}")


class PlatformConnection(db.Model):
    """A brand's link to one ad account on one platform (app.services.platforms, docs/connectors.md).

    The credentials are a Fernet token (key: PACER_CONNECTOR_KEY), never shown again after saving.
    A new connection is in dry run: pushes are logged as they would be sent, and nothing is sent.
    """

    __tablename__ = "platform_connection"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))  # app.connectors.PLATFORMS
    account_id: Mapped[str] = mapped_column(String(40))
    credentials_encrypted: Mapped[str] = mapped_column(Text)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # new (never tested or pulled) | ok | error (state_reason says why)
    state: Mapped[str] = mapped_column(String(8), default="new", server_default="new")
    state_reason: Mapped[str | None] = mapped_column(Text)
    # What the platform said of the account at the last test or pull.
    account_name: Mapped[str | None] = mapped_column(String(200))
    account_timezone: Mapped[str | None] = mapped_column(String(64))
    account_currency: Mapped[str | None] = mapped_column(String(3))
    # The instant the last successful pull read up to: the next one catches up from here.
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pull_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    brand: Mapped[Brand] = relationship()

    __table_args__ = (
        UniqueConstraint("brand_id", "platform", "account_id"),
        CheckConstraint("state in ('new', 'ok', 'error')", name="state"),
    )


class CampaignPlatformLink(db.Model):
    """A Pacer campaign's id on one connection's platform, and whether the platform has its state."""

    __tablename__ = "campaign_platform_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    connection_id: Mapped[int] = mapped_column(ForeignKey("platform_connection.id"))
    platform_campaign_id: Mapped[str] = mapped_column(String(40))
    # unknown (nothing pushed yet) | in_sync | pending (a push waits or retries) | out_of_sync (gave up)
    sync_state: Mapped[str] = mapped_column(String(12), default="unknown", server_default="unknown")
    sync_reason: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    connection: Mapped[PlatformConnection] = relationship()

    __table_args__ = (
        UniqueConstraint("campaign_id", "connection_id"),
        UniqueConstraint("connection_id", "platform_campaign_id"),
        CheckConstraint("sync_state in ('unknown', 'in_sync', 'pending', 'out_of_sync')", name="sync_state"),
        Index(None, "sync_state"),  # the overview lists the links out of sync on every load
    )


class PlatformPush(db.Model):
    """One campaign change for one linked platform campaign: every attempt's outcome, and when to try again.

    pending -> delivered | failed (gave up: the link is out of sync) | dry_run (logged, not sent) |
    skipped (the state did not change: only the reasons did).
    """

    __tablename__ = "platform_push"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("campaign_platform_link.id"))
    connection_id: Mapped[int] = mapped_column(ForeignKey("platform_connection.id"))
    # The campaign change it carries; None for a resync (the campaign's state as it was when asked for).
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_event.id"))
    ordering_key: Mapped[str] = mapped_column(String(64))
    wanted_state: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)  # the platform's answer (an excerpt)
    request_json: Mapped[str | None] = mapped_column("request", Text)  # what was (or would be) sent
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    link: Mapped[CampaignPlatformLink] = relationship()
    connection: Mapped[PlatformConnection] = relationship()
    event: Mapped[OutboxEvent | None] = relationship()

    __table_args__ = (
        UniqueConstraint("link_id", "outbox_id"),
        CheckConstraint("status in ('pending', 'delivered', 'failed', 'dry_run', 'skipped')", name="status"),
        Index(None, "status", "next_attempt_at"),
        Index(None, "link_id", "status"),
    )
