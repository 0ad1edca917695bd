"""Meta Marketing API (Graph API) over REST (docs/connectors.md): ``POST /{campaign-id}`` with
``status`` for pause and resume, the ad account's ``insights`` edge with the hourly breakdown in the
advertiser's time zone for spend, followed through ``paging.next``. Every call carries the
``access_token`` (a system user's token with ads_management and ads_read)."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import httpx

from app.connectors.base import (
    AccountInfo,
    ConnectorError,
    HourSpend,
    PlatformSettings,
    PushResult,
    RateLimited,
    excerpt,
    json_body,
    retry_after_seconds,
    transport_error,
)

PLATFORM = "meta"
CREDENTIAL_FIELDS = ("access_token",)
REQUIRED_FIELDS = ("access_token",)
STATUS = {"active": "ACTIVE", "paused": "PAUSED"}
# Throttling codes (Marketing API rate limiting and error reference): application, user, page, ad account
# level, and the Business Use Case range 80000-80014 (80004: too many calls to this ad account).
RATE_LIMIT_CODES = {4, 17, 32, 613} | set(range(80000, 80015))
PERMANENT_CODES = {10, 100, 102, 190, 200, 294, 803}
HOUR = re.compile(r"^(\d{2}):00:00 - \d{2}:59:59$")
_ACCOUNT = re.compile(r"^\d{1,30}$")


def normalise_account_id(text: str) -> str:
    """``act_1234`` or ``1234`` -> ``1234``; ValueError with a sentence otherwise."""
    digits = (text or "").strip().removeprefix("act_")
    if not _ACCOUNT.match(digits):
        raise ValueError("A Meta ad account id is a number, e.g. act_1234567890 or 1234567890.")
    return digits


def _regain_after(response: httpx.Response) -> float | None:
    """Seconds until access returns, from Retry-After or X-Business-Use-Case-Usage's
    ``estimated_time_to_regain_access`` (minutes)."""
    seconds = retry_after_seconds(response)
    if seconds is not None:
        return seconds
    try:
        usage = json.loads(response.headers.get("x-business-use-case-usage", "") or "{}")
        minutes = [
            float(entry.get("estimated_time_to_regain_access", 0) or 0)
            for entries in usage.values()
            for entry in entries
        ]
    except (ValueError, AttributeError, TypeError):
        return None
    return max(minutes) * 60 if minutes and max(minutes) > 0 else None


def _failure(response: httpx.Response, what: str) -> ConnectorError:
    code, subcode, message, transient = None, None, "", False
    try:
        error = response.json().get("error", {})
        code, subcode = error.get("code"), error.get("error_subcode")
        message, transient = error.get("message", ""), bool(error.get("is_transient"))
    except (ValueError, AttributeError):
        pass
    text = f"{what}: HTTP {response.status_code}"
    if code is not None:
        text += f" code {code}{'/' + str(subcode) if subcode else ''}"
    if message:
        text += f": {message}"
    if response.status_code == 429 or code in RATE_LIMIT_CODES:
        return RateLimited(
            text, retry_after=_regain_after(response), status_code=response.status_code, answer=excerpt(response)
        )
    permanent = not transient and (code in PERMANENT_CODES or response.status_code in (400, 401, 403, 404))
    return ConnectorError(text, status_code=response.status_code, permanent=permanent, answer=excerpt(response))


class MetaConnector:
    platform = PLATFORM

    def __init__(self, credentials: dict, account_id: str, settings: PlatformSettings, client: httpx.Client) -> None:
        self.credentials = credentials
        self.account_id = normalise_account_id(account_id)
        self.settings = settings
        self.client = client

    def _url(self, path: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/{self.settings.version}/{path}"

    def _token(self) -> str:
        return self.credentials.get("access_token", "")

    def _send(self, method: str, url: str, what: str, **kwargs) -> tuple[httpx.Response, dict]:
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise transport_error(exc, what) from None
        if not 200 <= response.status_code < 300:
            raise _failure(response, what)
        return response, json_body(response, what)

    def describe_apply(self, campaign_ref: str, state: str) -> dict:
        return {"method": "POST", "url": self._url(campaign_ref), "body": {"status": STATUS[state]}}

    def apply(self, campaign_ref: str, state: str) -> PushResult:
        """Set the campaign's status; Meta answers ``{"success": true}``, also for a status it already has."""
        what = f"Meta campaign {campaign_ref} to {STATUS[state]}"
        response, body = self._send(
            "POST", self._url(campaign_ref), what, data={"status": STATUS[state], "access_token": self._token()}
        )
        if body.get("success") is not True:
            raise ConnectorError(
                f"{what}: the answer is not success", status_code=response.status_code, answer=excerpt(response)
            )
        return PushResult(True, response.status_code, excerpt(response), self.describe_apply(campaign_ref, state))

    def fetch_spend(self, account: str, since: date, until: date) -> list[HourSpend]:
        """Spend per campaign, date and hour of the advertiser's time zone, every page of it."""
        what = "Meta insights"
        url = self._url(f"act_{self.account_id}/insights")
        params: dict | None = {
            "level": "campaign",
            "fields": "campaign_id,spend",
            "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()}),
            "time_increment": "1",
            "breakdowns": "hourly_stats_aggregated_by_advertiser_time_zone",
            "limit": "500",
            "access_token": self._token(),
        }
        base = urlsplit(self.settings.base_url)
        spend: list[HourSpend] = []
        while url:
            _, page = self._send("GET", url, what, params=params)
            for row in page.get("data", []) or []:
                spend.append(self._row(row))
            url = (page.get("paging") or {}).get("next")
            params = None  # the next URL carries every parameter, the cursor included
            if url and (urlsplit(url).scheme, urlsplit(url).netloc) != (base.scheme, base.netloc):
                raise ConnectorError(f"{what}: paging.next points away from {self.settings.base_url}; not followed")
        return spend

    @staticmethod
    def _row(row: dict) -> HourSpend:
        try:
            match = HOUR.match(row["hourly_stats_aggregated_by_advertiser_time_zone"])
            if not match:
                raise ValueError("hour")
            amount = Decimal(str(row["spend"]))
            if not amount.is_finite() or amount < 0:
                raise ValueError("spend")
            return HourSpend(
                platform_campaign_id=str(row["campaign_id"]),
                day=date.fromisoformat(row["date_start"]),
                hour=int(match.group(1)),
                amount=amount,
            )
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise ConnectorError(f"Meta insights: a row Pacer cannot read ({exc!r}): {row!r}"[:500]) from None

    def account_info(self) -> AccountInfo:
        _, body = self._send(
            "GET",
            self._url(f"act_{self.account_id}"),
            "Meta ad account",
            params={"fields": "name,timezone_name,currency", "access_token": self._token()},
        )
        return AccountInfo(
            account_id=self.account_id,
            name=body.get("name", ""),
            time_zone=body.get("timezone_name", ""),
            currency=body.get("currency", ""),
        )
