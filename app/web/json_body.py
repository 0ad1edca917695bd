"""Reading a JSON request body within limits: size, nesting depth, and only storable text."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from flask import Request

from app.web.security import bad_text

_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JsonBodyError(ValueError):
    """A body that is not acceptable JSON; the message is a sentence for the client."""


def nesting_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body``, brackets inside strings ignored."""
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _check_text(value: Any, path: str = "$") -> None:
    if isinstance(value, str):
        problem = bad_text(value)
        if problem:
            raise JsonBodyError(f"the text at {path} {problem}")
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = bad_text(key)
            if problem:
                raise JsonBodyError(f"a key in {path} {problem}")
            _check_text(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{path}[{index}]")


def read_json(request: Request, *, max_bytes: int, max_depth: int) -> Any:
    """The request body parsed as JSON (decimals as Decimal), or JsonBodyError saying what is wrong."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise JsonBodyError(f"the body is larger than {max_bytes // (1024 * 1024)} MB; send fewer records per request")
    body = request.stream.read(max_bytes + 1) if request.content_length is None else request.get_data(cache=False)
    if len(body) > max_bytes:
        raise JsonBodyError(f"the body is larger than {max_bytes // (1024 * 1024)} MB; send fewer records per request")
    if nesting_depth(body) > max_depth:
        raise JsonBodyError(f"the body nests arrays or objects more than {max_depth} deep")
    try:
        payload = json.loads(body or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise JsonBodyError(f"the body is not valid JSON: {exc}") from None
    _check_text(payload)
    return payload
