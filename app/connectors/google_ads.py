"""Google Ads API over REST (docs/connectors.md): campaigns:mutate for the status, GAQL through
googleAds:search for hourly cost. OAuth 2.0: a refresh token is exchanged for an access token, kept
until shortly before it expires; every call carries ``Authorization: Bearer``, ``developer-token``
and, when the account is reached through a manager account, ``login-customer-id``."""

from __future__ import annotations

import contextlib
import re
import time
from datetime import date
from decimal import Decimal

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

PLATFORM = "google_ads"
CREDENTIAL_FIELDS = ("developer_token", "client_id", "client_secret", "refresh_token", "login_customer_id")
REQUIRED_FIELDS = ("developer_token", "client_id", "client_secret", "refresh_token")
STATUS = {"active": "ENABLED", "paused": "PAUSED"}
PERMANENT_STATUSES = {"INVALID_ARGUMENT", "UNAUTHENTICATED", "PERMISSION_DENIED", "NOT_FOUND", "FAILED_PRECONDITION"}
TOKEN_EARLY = 60  # seconds before expiry an access token is refreshed
_DIGITS = re.compile(r"^\d{10}$")


def normalise_customer_id(text: str) -> str:
    """``123-456-7890`` or ``1234567890`` -> ``1234567890``; ValueError with a sentence otherwise."""
    digits = (text or "").strip().replace("-", "")
    if not _DIGITS.match(digits):
        raise ValueError("A Google Ads customer id has 10 digits, e.g. 123-456-7890.")
    return digits


def _duration(text: str) -> float | None:
    """A protobuf Duration in JSON (``"30s"``, ``"1.5s"``) in seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)s", (text or "").strip())
    return float(match.group(1)) if match else None


def _failure(response: httpx.Response, what: str) -> ConnectorError:
    """The ConnectorError for a non-2xx answer, read from Google's error body when it has one."""
    status, message, retry = "", "", None
    try:
        error = response.json().get("error", {})
        status, message = error.get("status", ""), error.get("message", "")
        for detail in error.get("details", []) or []:
            for item in detail.get("errors", []) or []:
                message = item.get("message") or message
                quota = (item.get("details") or {}).get("quotaErrorDetails") or {}
                retry = _duration(quota.get("retryDelay", "")) or retry
    except (ValueError, AttributeError):
        pass
    text = f"{what}: HTTP {response.status_code}{' ' + status if status else ''}{': ' + message if message else ''}"
    if response.status_code == 429 or status == "RESOURCE_EXHAUSTED":
        return RateLimited(
            text,
            retry_after=retry_after_seconds(response) or retry,
            status_code=response.status_code,
            answer=excerpt(response),
        )
    permanent = status in PERMANENT_STATUSES or response.status_code in (400, 401, 403, 404)
    return ConnectorError(text, status_code=response.status_code, permanent=permanent, answer=excerpt(response))


class GoogleAdsConnector:
    platform = PLATFORM

    def __init__(self, credentials: dict, account_id: str, settings: PlatformSettings, client: httpx.Client) -> None:
        self.credentials = credentials
        self.customer_id = normalise_customer_id(account_id)
        self.settings = settings
        self.client = client
        self._token: str | None = None
        self._token_until = 0.0

    # --- requests ------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/{self.settings.version}/customers/{self.customer_id}/{path}"

    def access_token(self) -> str:
        """An access token from the refresh token (OAuth 2.0 ``grant_type=refresh_token``), cached."""
        if self._token and time.monotonic() < self._token_until:
            return self._token
        what = "Google OAuth token"
        try:
            response = self.client.post(
                self.settings.token_url,
                data={
                    "grant_type": "refresh_token",
                    "client_id": self.credentials.get("client_id", ""),
                    "client_secret": self.credentials.get("client_secret", ""),
                    "refresh_token": self.credentials.get("refresh_token", ""),
                },
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc, what) from None
        if response.status_code != 200:
            body = {}
            with contextlib.suppress(ValueError):
                body = response.json()
            reason = " ".join(filter(None, (body.get("error"), body.get("error_description"))))
            raise ConnectorError(
                f"{what}: HTTP {response.status_code}{': ' + reason if reason else ''}",
                status_code=response.status_code,
                permanent=response.status_code in (400, 401, 403),
                answer=excerpt(response),
            )
        body = json_body(response, what)
        token = body.get("access_token")
        if not token:
            raise ConnectorError(f"{what}: the answer has no access_token", answer=excerpt(response))
        self._token = token
        self._token_until = time.monotonic() + max(float(body.get("expires_in", 3600)) - TOKEN_EARLY, 0)
        return token

    def headers(self) -> dict[str, str]:
        headers = {
            "authorization": f"Bearer {self.access_token()}",
            "developer-token": self.credentials.get("developer_token", ""),
            "content-type": "application/json",
        }
        login = (self.credentials.get("login_customer_id") or "").replace("-", "").strip()
        if login:
            headers["login-customer-id"] = login
        return headers

    def _post(self, path: str, body: dict, what: str) -> tuple[httpx.Response, dict]:
        try:
            response = self.client.post(self._url(path), json=body, headers=self.headers())
        except httpx.HTTPError as exc:
            raise transport_error(exc, what) from None
        if not 200 <= response.status_code < 300:
            raise _failure(response, what)
        return response, json_body(response, what)

    def search(self, query: str, what: str) -> list[dict]:
        """Every row of a GAQL query through ``googleAds:search``, following ``nextPageToken``."""
        rows: list[dict] = []
        body: dict = {"query": query}
        while True:
            _, page = self._post("googleAds:search", body, what)
            rows += page.get("results", []) or []
            token = page.get("nextPageToken")
            if not token:
                return rows
            body = {"query": query, "pageToken": token}

    # --- the interface -------------------------------------------------------------------------

    def _mutate_body(self, campaign_ref: str, state: str) -> dict:
        return {
            "operations": [
                {
                    "update": {
                        "resourceName": f"customers/{self.customer_id}/campaigns/{campaign_ref}",
                        "status": STATUS[state],
                    },
                    "updateMask": "status",
                }
            ]
        }

    def describe_apply(self, campaign_ref: str, state: str) -> dict:
        return {"method": "POST", "url": self._url("campaigns:mutate"), "body": self._mutate_body(campaign_ref, state)}

    def apply(self, campaign_ref: str, state: str) -> PushResult:
        """Set the campaign's status; Google accepts a status the campaign already has, so a repeat succeeds."""
        what = f"Google Ads campaign {campaign_ref} to {STATUS[state]}"
        response, body = self._post("campaigns:mutate", self._mutate_body(campaign_ref, state), what)
        partial = body.get("partialFailureError")
        if partial:
            raise ConnectorError(
                f"{what}: {partial.get('message', 'partial failure')}",
                status_code=response.status_code,
                permanent=True,
                answer=excerpt(response),
            )
        return PushResult(True, response.status_code, excerpt(response), self.describe_apply(campaign_ref, state))

    def fetch_spend(self, account: str, since: date, until: date) -> list[HourSpend]:
        """Cost per campaign, date and hour (the account's zone); ``metrics.cost_micros`` as exact Decimals."""
        query = (
            "SELECT campaign.id, segments.date, segments.hour, metrics.cost_micros FROM campaign "
            f"WHERE segments.date BETWEEN '{since.isoformat()}' AND '{until.isoformat()}'"
        )
        spend = []
        for row in self.search(query, "Google Ads spend"):
            try:
                spend.append(
                    HourSpend(
                        platform_campaign_id=str(row["campaign"]["id"]),
                        day=date.fromisoformat(row["segments"]["date"]),
                        hour=int(row["segments"]["hour"]),
                        amount=Decimal(int(row.get("metrics", {}).get("costMicros", 0))).scaleb(-6),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ConnectorError(f"Google Ads spend: a row Pacer cannot read ({exc!r}): {row!r}"[:500]) from None
        return spend

    def account_info(self) -> AccountInfo:
        rows = self.search(
            "SELECT customer.id, customer.descriptive_name, customer.time_zone, customer.currency_code FROM customer",
            "Google Ads account",
        )
        if not rows:
            raise ConnectorError("Google Ads account: the customer query returned no row", permanent=True)
        customer = rows[0].get("customer", {})
        return AccountInfo(
            account_id=self.customer_id,
            name=customer.get("descriptiveName", ""),
            time_zone=customer.get("timeZone", ""),
            currency=customer.get("currencyCode", ""),
        )
