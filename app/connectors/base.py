"""The connector interface and the values it speaks in (plain data, no framework)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

import httpx

ANSWER_MAX = 500  # characters of a platform's answer kept in the delivery log and the history
STATES = ("active", "paused")


@dataclass(frozen=True)
class PlatformSettings:
    """Where a platform is and which API version Pacer speaks (app.config: PACER_<PLATFORM>_*)."""

    base_url: str
    version: str
    token_url: str = ""  # OAuth token endpoint (Google Ads only)
    timeout: float = 20.0


@dataclass(frozen=True)
class PushResult:
    """A platform's answer to one state change: it took it (``ok``), with its answer for the history."""

    ok: bool
    status_code: int | None
    answer: str
    sent: dict = field(default_factory=dict)  # method, URL and body as sent (secrets left out)


@dataclass(frozen=True)
class HourSpend:
    """A platform's spend for one campaign and one hour of the account's own time zone."""

    platform_campaign_id: str
    day: date  # account-local date
    hour: int  # account-local hour, 0..23
    amount: Decimal  # in the account's currency, major units, exact


@dataclass(frozen=True)
class AccountInfo:
    """What the platform says about the account: what a pull needs to convert its figures."""

    account_id: str
    name: str
    time_zone: str  # IANA
    currency: str  # ISO 4217


class ConnectorError(RuntimeError):
    """A request the platform refused or could not answer; the message is a sentence for people.

    ``permanent``: sending it again cannot help (bad credentials, unknown campaign, invalid request).
    """

    def __init__(
        self, message: str, *, status_code: int | None = None, permanent: bool = False, answer: str = ""
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.permanent = permanent
        self.answer = answer[:ANSWER_MAX]


class RateLimited(ConnectorError):
    """The platform asks Pacer to slow down; ``retry_after`` seconds when it said how long."""

    def __init__(self, message: str, *, retry_after: float | None, status_code: int | None = None, answer: str = ""):
        super().__init__(message, status_code=status_code, permanent=False, answer=answer)
        self.retry_after = retry_after


class Connector(Protocol):
    """What every platform implements. ``campaign_ref`` is the platform's campaign id as mapped."""

    platform: str

    def apply(self, campaign_ref: str, state: str) -> PushResult:
        """Set the campaign's serving state ("active" or "paused"); a campaign already in it is a success."""
        ...

    def fetch_spend(self, account: str, since: date, until: date) -> list[HourSpend]:
        """Hourly spend per campaign for the account-local dates ``since``..``until`` (inclusive)."""
        ...

    def account_info(self) -> AccountInfo:
        """The account's name, time zone and currency (the "test connection" button)."""
        ...

    def describe_apply(self, campaign_ref: str, state: str) -> dict:
        """The request :meth:`apply` would send (dry-run), secrets left out."""
        ...


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After in seconds (delta form; an HTTP date is not used by these platforms), or None."""
    value = response.headers.get("retry-after", "").strip()
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def excerpt(response: httpx.Response) -> str:
    return response.text[:ANSWER_MAX]


def json_body(response: httpx.Response, what: str) -> dict:
    """The response's JSON object, or a ConnectorError naming ``what`` was being read."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ConnectorError(
            f"{what}: the platform answered HTTP {response.status_code} with something that is not JSON",
            status_code=response.status_code,
            answer=excerpt(response),
        ) from None
    if not isinstance(body, dict):
        raise ConnectorError(f"{what}: the platform's answer is not a JSON object", answer=excerpt(response))
    return body


def transport_error(exc: httpx.HTTPError, what: str) -> ConnectorError:
    return ConnectorError(f"{what}: {type(exc).__name__}: {exc}")
