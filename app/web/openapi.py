"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json and rendered in docs/api.md.

Kept beside the views it describes; tests/test_openapi.py runs schemathesis against it, so a
response that drifts from this document fails the suite.
"""

from __future__ import annotations

from typing import Any

from app.services.spend import MAX_RECORDS

ERROR = {"$ref": "#/components/schemas/Error"}
MONEY = {
    "type": "string",
    "pattern": r"^-?\d+(\.\d+)?$",
    "description": "decimal string in the currency's major unit",
    "examples": ["525.00"],
}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


COMMON_ERRORS = {
    "400": _error_response("Bad request: a query argument with a NUL byte or a lone surrogate."),
    "401": _error_response("No token, or an unknown, revoked or expired one, or its user is deactivated."),
}

SPEND_RECORD = {
    "type": "object",
    "required": ["brand", "campaign", "amount", "spent_at"],
    "properties": {
        "brand": {"type": "string", "description": "brand name"},
        "campaign": {"type": "string", "description": "campaign name within the brand"},
        "amount": {"type": ["string", "number"], "description": "decimal amount in the brand's currency, >= 0"},
        "spent_at": {
            "type": "string",
            "description": "ISO 8601; with an offset or Z absolute, without one brand-local",
            "examples": ["2026-11-25T14:05:00Z"],
        },
        "external_id": {
            "type": ["string", "null"],
            "maxLength": 200,
            "description": "the platform's id: the same id in the same brand is the same record",
        },
        "currency": {"type": ["string", "null"], "description": "if given, must be the brand's currency"},
        "period": {
            "enum": ["day", "hour", "", None],
            "description": (
                "a platform's running figure for a brand-local day or hour instead of a spend at an instant: "
                "spent_at is then the day (2026-11-05) or the hour's local start (2026-11-05 14:00, "
                "2026-11-05T14, or with an offset to name the second 01:00 of a fall-back night); "
                "a later figure for the same campaign and period replaces the stored one"
            ),
        },
    },
}

SPEND_RESULT = {
    "type": "object",
    "required": ["created", "duplicates", "rejected", "results"],
    "properties": {
        "created": {"type": "integer", "minimum": 0},
        "duplicates": {"type": "integer", "minimum": 0},
        "replaced": {"type": "integer", "minimum": 0, "description": "period figures raised"},
        "corrected": {"type": "integer", "minimum": 0, "description": "period figures lowered"},
        "unchanged": {"type": "integer", "minimum": 0, "description": "period figures equal, or older than stored"},
        "rejected": {"type": "integer", "minimum": 0},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "status"],
                "properties": {
                    "index": {"type": "integer", "minimum": 0},
                    "status": {"enum": ["created", "duplicate", "replaced", "corrected", "unchanged", "error"]},
                    "error": {"type": "string"},
                },
            },
        },
        "enforcement": {"enum": ["queued", "deferred", None]},
        "enforcement_message": {"type": "string"},
        "error": {"type": "string"},
    },
}

BRAND = {
    "type": "object",
    "required": ["id", "name", "timezone", "currency", "daily_budget", "monthly_budget", "spend_today", "spend_month"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "timezone": {"type": "string", "description": "IANA time zone"},
        "currency": {"type": "string", "description": "ISO 4217"},
        "daily_budget": MONEY,
        "monthly_budget": MONEY,
        "spend_today": MONEY,
        "spend_month": MONEY,
    },
}

CAMPAIGN = {
    "type": "object",
    "required": ["id", "brand", "brand_id", "name", "enabled", "status", "reasons"],
    "properties": {
        "id": {"type": "integer"},
        "brand": {"type": "string"},
        "brand_id": {"type": "integer"},
        "name": {"type": "string"},
        "enabled": {"type": "boolean"},
        "start_date": {"type": ["string", "null"], "format": "date"},
        "end_date": {"type": ["string", "null"], "format": "date"},
        "status": {"enum": ["active", "paused"]},
        "reasons": {
            "type": "array",
            "items": {"enum": ["disabled", "flight", "schedule", "daily_budget", "monthly_budget"]},
        },
        "status_changed_at": {"type": ["string", "null"], "format": "date-time"},
        "spend_today": MONEY,
        "spend_month": MONEY,
        "daily_budget": MONEY,
        "monthly_budget": MONEY,
        "currency": {"type": "string"},
    },
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the JSON API (a fresh dict each call)."""
    records = {"type": "array", "items": SPEND_RECORD, "minItems": 1, "maxItems": MAX_RECORDS}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Pacer API",
            "version": "1",
            "description": "Read brands and campaigns, and record spend. Authenticate with a personal API token "
            "(created on your account page) sent as `Authorization: Bearer <token>`. Viewers may "
            'read; managers and admins may also record spend. Errors are `{"error": "..."}`.',
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "a token starting pcr_, from /me"}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
                "SpendRecord": SPEND_RECORD,
                "SpendResult": SPEND_RESULT,
                "Brand": BRAND,
                "Campaign": CAMPAIGN,
            },
        },
        "paths": {
            "/brands": {
                "get": {
                    "operationId": "listBrands",
                    "summary": "Every live brand with today's and this month's spend (brand-local)",
                    "parameters": [
                        {
                            "name": "name",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "only the brand of this exact name",
                        }
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["brands"],
                                "properties": {
                                    "brands": {"type": "array", "items": {"$ref": "#/components/schemas/Brand"}}
                                },
                            },
                            "The brands",
                        ),
                        **COMMON_ERRORS,
                    },
                }
            },
            "/campaigns": {
                "get": {
                    "operationId": "listCampaigns",
                    "summary": "Every live campaign with its status, pause reasons and its brand's spend",
                    "parameters": [
                        {
                            "name": "brand",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "only the campaigns of the brand of this exact name",
                        }
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["campaigns"],
                                "properties": {
                                    "campaigns": {"type": "array", "items": {"$ref": "#/components/schemas/Campaign"}}
                                },
                            },
                            "The campaigns",
                        ),
                        **COMMON_ERRORS,
                    },
                }
            },
            "/spend": {
                "post": {
                    "operationId": "recordSpend",
                    "summary": f"Record up to {MAX_RECORDS:,} spend records; idempotent",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        records,
                                        {"type": "object", "required": ["records"], "properties": {"records": records}},
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(
                            {"$ref": "#/components/schemas/SpendResult"},
                            "Nothing new: duplicates, or period figures replaced, corrected or unchanged",
                        ),
                        "201": _json({"$ref": "#/components/schemas/SpendResult"}, "Records were created"),
                        "207": _json({"$ref": "#/components/schemas/SpendResult"}, "Some records were rejected"),
                        "400": _json(
                            {"anyOf": [{"$ref": "#/components/schemas/SpendResult"}, ERROR]},
                            "Nothing was written: the body is not acceptable JSON, or every record is invalid",
                        ),
                        "401": COMMON_ERRORS["401"],
                        "403": _error_response("The token's user is a viewer"),
                        "413": _error_response("The body is larger than the API's limit"),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
    }


def _type_text(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "enum" in schema:
        return " \\| ".join("null" if v is None else f"`{v}`" for v in schema["enum"])
    kind = schema.get("type", "object")
    if kind == "array":
        return f"list of {_type_text(schema.get('items', {}))}"
    return " or ".join(kind) if isinstance(kind, list) else kind


def render_markdown(document: dict[str, Any] | None = None) -> str:
    """The reference section of docs/api.md, generated from the document (tests keep the two equal)."""
    document = document or openapi_document()
    lines = ["## Reference (generated from `/api/v1/openapi.json`)", ""]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            lines += [f"### `{method.upper()} /api/v1{path}`", "", operation["summary"] + ".", ""]
            for parameter in operation.get("parameters", []):
                lines.append(f"- query `{parameter['name']}`: {parameter.get('description', '')}")
            if operation.get("parameters"):
                lines.append("")
            lines += ["| status | meaning |", "|---|---|"]
            lines += [f"| {code} | {response['description']} |" for code, response in operation["responses"].items()]
            lines.append("")
    for name, schema in document["components"]["schemas"].items():
        lines += [f"### {name}", "", "| field | type | required | meaning |", "|---|---|---|---|"]
        required = set(schema.get("required", []))
        for field_name, field_schema in schema.get("properties", {}).items():
            lines.append(
                f"| `{field_name}` | {_type_text(field_schema)} | {'yes' if field_name in required else 'no'}"
                f" | {field_schema.get('description', '')} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m app.web.openapi  (prints the reference section of docs/api.md)
    print(render_markdown(), end="")
