"""Local fake ad platforms on real sockets: Google Ads (REST, OAuth token endpoint included) and the
Meta Marketing API, speaking the documented request and response shapes (docs/connectors.md).

Each records every request it receives, holds campaign statuses and hourly spend, checks the auth it
expects, and can be told to fail the next requests (``fail_next``) with any status, body and headers.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qs, urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

GOOGLE_VERSION = "v21"
META_VERSION = "v23.0"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    args: dict
    form: dict
    json: dict | None


@dataclass
class FakePlatform:
    requests: list[Seen] = field(default_factory=list)
    fail_next: list[tuple[int, dict, dict]] = field(default_factory=list)  # (status, body, headers)
    statuses: dict[str, str] = field(default_factory=dict)  # platform campaign id -> status
    spend: list[tuple[str, date, int, str]] = field(default_factory=list)  # (campaign id, day, hour, amount)
    page_size: int = 2
    url: str = ""

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = None
        if request.mimetype == "application/json":
            body = request.get_json(silent=True)
        self.requests.append(
            Seen(
                request.method,
                request.path,
                {k.lower(): v for k, v in request.headers.items()},
                request.args.to_dict(),
                request.form.to_dict(),
                body,
            )
        )
        if self.fail_next and request.path != "/token":  # failures are for the API, not the OAuth server
            status, payload, headers = self.fail_next.pop(0)
            return Response(json.dumps(payload), status, headers=headers, mimetype="application/json")(
                environ, start_response
            )
        status, payload = self.handle(request, body)
        return Response(json.dumps(payload), status, mimetype="application/json")(environ, start_response)

    def handle(self, request: Request, body: dict | None) -> tuple[int, dict]:
        raise NotImplementedError

    def calls(self, path_part: str) -> list[Seen]:
        return [r for r in self.requests if path_part in r.path]


def google_error(status: int, grpc_status: str, message: str, error_code: dict, details: dict | None = None) -> dict:
    """A Google Ads REST error body: google.rpc.Status with a GoogleAdsFailure in its details."""
    item = {"errorCode": error_code, "message": message}
    if details:
        item["details"] = details
    return {
        "error": {
            "code": status,
            "message": "Request contains an invalid argument." if status == 400 else message,
            "status": grpc_status,
            "details": [
                {
                    "@type": f"type.googleapis.com/google.ads.googleads.{GOOGLE_VERSION}.errors.GoogleAdsFailure",
                    "errors": [item],
                    "requestId": "req-1",
                }
            ],
        }
    }


@dataclass
class FakeGoogleAds(FakePlatform):
    customer_id: str = "1234567890"
    developer_token: str = "dev-token"
    refresh_token: str = "refresh-1"
    client_id: str = "client-1"
    client_secret: str = "secret-1"
    login_customer_id: str | None = None
    time_zone: str = "Europe/Paris"
    currency: str = "EUR"
    tokens_issued: int = 0

    def handle(self, request, body):
        if request.path == "/token":
            form = request.form
            if (
                form.get("grant_type"),
                form.get("client_id"),
                form.get("client_secret"),
                form.get("refresh_token"),
            ) != (
                "refresh_token",
                self.client_id,
                self.client_secret,
                self.refresh_token,
            ):
                return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
            self.tokens_issued += 1
            return 200, {"access_token": f"ya29.token-{self.tokens_issued}", "expires_in": 3599, "token_type": "Bearer"}
        prefix = f"/{GOOGLE_VERSION}/customers/{self.customer_id}/"
        if not request.path.startswith(prefix):
            return 404, google_error(404, "NOT_FOUND", "not found", {"requestError": "RESOURCE_NAME_MALFORMED"})
        if not request.headers.get("Authorization", "").startswith("Bearer ya29.token-"):
            return 401, google_error(
                401, "UNAUTHENTICATED", "bad token", {"authenticationError": "OAUTH_TOKEN_INVALID"}
            )
        if request.headers.get("developer-token") != self.developer_token:
            return 401, google_error(
                401, "UNAUTHENTICATED", "bad developer token", {"authenticationError": "DEVELOPER_TOKEN_INVALID"}
            )
        if self.login_customer_id and request.headers.get("login-customer-id") != self.login_customer_id:
            return 403, google_error(
                403, "PERMISSION_DENIED", "no access", {"authorizationError": "USER_PERMISSION_DENIED"}
            )
        action = request.path[len(prefix) :]
        if action == "campaigns:mutate":
            return self.mutate(body or {})
        if action == "googleAds:search":
            return self.search(body or {})
        return 404, google_error(404, "NOT_FOUND", "not found", {"requestError": "RESOURCE_NAME_MALFORMED"})

    def mutate(self, body):
        results = []
        for operation in body.get("operations", []):
            update, mask = operation.get("update", {}), operation.get("updateMask")
            match = re.fullmatch(rf"customers/{self.customer_id}/campaigns/(\d+)", update.get("resourceName", ""))
            if mask != "status" or update.get("status") not in ("ENABLED", "PAUSED") or not match:
                return 400, google_error(400, "INVALID_ARGUMENT", "bad operation", {"fieldError": "REQUIRED"})
            if match.group(1) not in self.statuses:
                return 400, google_error(
                    400, "INVALID_ARGUMENT", "Resource was not found.", {"mutateError": "RESOURCE_NOT_FOUND"}
                )
            self.statuses[match.group(1)] = update["status"]
            results.append({"resourceName": update["resourceName"]})
        return 200, {"results": results}

    def search(self, body):
        query = body.get("query", "")
        if "FROM customer" in query:
            return 200, {
                "results": [
                    {
                        "customer": {
                            "resourceName": f"customers/{self.customer_id}",
                            "id": self.customer_id,
                            "descriptiveName": "Fake account",
                            "timeZone": self.time_zone,
                            "currencyCode": self.currency,
                        }
                    }
                ],
                "fieldMask": "customer.id,customer.descriptiveName,customer.timeZone,customer.currencyCode",
            }
        expected = "SELECT campaign.id, segments.date, segments.hour, metrics.cost_micros FROM campaign WHERE"
        match = re.search(r"segments\.date BETWEEN '(\d{4}-\d{2}-\d{2})' AND '(\d{4}-\d{2}-\d{2})'", query)
        if not query.startswith(expected) or not match:
            return 400, google_error(400, "INVALID_ARGUMENT", "bad query", {"queryError": "UNEXPECTED_INPUT"})
        since, until = date.fromisoformat(match.group(1)), date.fromisoformat(match.group(2))
        rows = [
            {
                "campaign": {"resourceName": f"customers/{self.customer_id}/campaigns/{cid}", "id": cid},
                "segments": {"date": day.isoformat(), "hour": hour},
                "metrics": {"costMicros": amount},  # int64 travels as a JSON string
            }
            for cid, day, hour, amount in self.spend
            if since <= day <= until
        ]
        start = int(body.get("pageToken") or 0)
        page = {"results": rows[start : start + self.page_size], "fieldMask": "campaign.id,segments.date"}
        if start + self.page_size < len(rows):
            page["nextPageToken"] = str(start + self.page_size)
        return 200, page


def meta_error(code: int, message: str, subcode: int | None = None, transient: bool = False) -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Afake"}
    if subcode:
        error["error_subcode"] = subcode
    if transient:
        error["is_transient"] = True
    return {"error": error}


@dataclass
class FakeMeta(FakePlatform):
    account_id: str = "555"
    access_token: str = "EAAB-token"
    time_zone: str = "Europe/Paris"
    currency: str = "EUR"

    def handle(self, request, body):
        token = request.form.get("access_token") if request.method == "POST" else request.args.get("access_token")
        if token != self.access_token:
            return 400, meta_error(190, "Invalid OAuth access token - Cannot parse access token")
        prefix = f"/{META_VERSION}/"
        path = request.path[len(prefix) :] if request.path.startswith(prefix) else ""
        if request.method == "GET" and path == f"act_{self.account_id}/insights":
            return self.insights(request.args)
        if request.method == "GET" and path == f"act_{self.account_id}":
            return 200, {
                "name": "Fake ad account",
                "timezone_name": self.time_zone,
                "currency": self.currency,
                "id": f"act_{self.account_id}",
            }
        if request.method == "POST" and path in self.statuses:
            if request.form.get("status") not in ("ACTIVE", "PAUSED"):
                return 400, meta_error(100, "Invalid parameter")
            self.statuses[path] = request.form["status"]
            return 200, {"success": True}
        return 400, meta_error(100, f"Unsupported post request. Object with ID '{path}' does not exist", 33)

    def insights(self, args):
        expected = {
            "level": "campaign",
            "fields": "campaign_id,spend",
            "breakdowns": "hourly_stats_aggregated_by_advertiser_time_zone",
            "time_increment": "1",
        }
        if any(args.get(k) != v for k, v in expected.items()):
            return 400, meta_error(100, "Invalid parameter")
        time_range = json.loads(args["time_range"])
        since, until = date.fromisoformat(time_range["since"]), date.fromisoformat(time_range["until"])
        rows = [
            {
                "campaign_id": cid,
                "spend": amount,
                "date_start": day.isoformat(),
                "date_stop": day.isoformat(),
                "hourly_stats_aggregated_by_advertiser_time_zone": f"{hour:02d}:00:00 - {hour:02d}:59:59",
            }
            for cid, day, hour, amount in self.spend
            if since <= day <= until
        ]
        start = int(args.get("after") or 0)
        page = {"data": rows[start : start + self.page_size], "paging": {"cursors": {"before": "0", "after": "x"}}}
        if start + self.page_size < len(rows):
            query = dict(args) | {"after": str(start + self.page_size)}
            page["paging"]["next"] = f"{self.url}/{META_VERSION}/act_{self.account_id}/insights?{urlencode(query)}"
        return 200, page


class Served:
    """A fake platform on 127.0.0.1 in a thread, for one test."""

    def __init__(self, app: FakePlatform) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        app.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return self.app.url

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def form_of(seen: Seen) -> dict:
    return {k: v[0] for k, v in parse_qs(urlencode(seen.form)).items()}
