"""Signed requests to the DomainTools API and the translation of its answers into our errors.

Every request carries `api_username`, `timestamp` (UTC, `%Y-%m-%dT%H:%M:%SZ`) and `signature`
= hex HMAC-SHA256 keyed with the API key over username + timestamp + URI path (no query), and
is signed afresh on each try. The key itself is never sent, so it cannot surface in a URL, a
log line (httpx logs every URL) or an error message.

Answers: the `response` object of a 200; None for 404; RateLimited for 429 and for any answer
whose reason says a limit or quota is exceeded (an error envelope `{"error": {"code",
"message"}}`, or `limit_exceeded` in the response); Unavailable without detail for refused
credentials (401, 403); 5xx retried with backoff, like `enrichment.http.request` (which this
does not use because it drops a 5xx's body, and a 503's body may say "quota").
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from enrichment.errors import RateLimited, Unavailable
from enrichment.http import fetch
from enrichment.text import one_line

Doc = dict[str, Any]

MAX_BODY = 2 * 1024 * 1024
MAX_LIST_BODY = 16 * 1024 * 1024  # a purchased reverse-WHOIS report lists every domain
RETRIES = 2
BACKOFF = 0.2
TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"
REFUSED = "DomainTools refused the credentials"
_QUOTA = re.compile(r"quota|exceed|too many|rate.?limit|query limit", re.I)
# Statuses DomainTools gives limit and quota answers with (429 raises inside `fetch`).
_QUOTA_STATUSES = frozenset({200, 401, 403, 503})


def sign(username: str, key: str, timestamp: str, path: str) -> str:
    """The request signature: hex HMAC-SHA256 keyed with `key` over username+timestamp+path."""
    message = (username + timestamp + path).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Credentials:
    username: str
    key: str = field(repr=False)


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested hostile JSON
        return None


def _dict(value: Any) -> Doc:
    return value if isinstance(value, dict) else {}


def reason(doc: Any) -> str | None:
    """Why an answer failed, in its own words: the error envelope or a limit_exceeded note."""
    response = _dict(_dict(doc).get("response"))
    if response.get("limit_exceeded") is True:
        message = response.get("message")
        return (one_line(message, 160) if isinstance(message, str) else "") or "limit exceeded"
    message = _dict(_dict(doc).get("error")).get("message")
    return (one_line(message, 160) or None) if isinstance(message, str) else None


def _limited(status: int, doc: Any, message: str | None) -> bool:
    if _dict(_dict(doc).get("response")).get("limit_exceeded") is True:
        return True
    return bool(message and status in _QUOTA_STATUSES and _QUOTA.search(message))


def judge(status: int, body: bytes) -> Doc | None:
    """The `response` object of an answer, None for 404; our errors for everything else."""
    if status == 404:
        return None
    doc = _parse(body)
    message = reason(doc)
    if _limited(status, doc, message):
        raise RateLimited(f"DomainTools: {message}")
    if status in (401, 403):
        raise Unavailable(REFUSED)
    if status != 200 or message:
        raise Unavailable(f"HTTP {status}: {message}" if message else f"HTTP {status}")
    response = _dict(doc).get("response")
    if not isinstance(response, dict):
        raise Unavailable("answer was not JSON" if doc is None else "answer had no response")
    return response


def _worth_retrying(status: int, body: bytes) -> bool:
    doc = _parse(body)
    return status >= 500 and not _limited(status, doc, reason(doc))


class Client:
    """One DomainTools account at one base URL."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base: str,
        credentials: Credentials,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.http = http
        self.base = base.rstrip("/")
        self.credentials = credentials
        self.now = now or (lambda: datetime.now(UTC))

    def signed(self, path: str, params: Mapping[str, str]) -> dict[str, str]:
        """`params` with the authentication parameters for a request to `path`."""
        username, key = self.credentials.username, self.credentials.key
        timestamp = self.now().astimezone(UTC).strftime(TIMESTAMP)
        signature = sign(username, key, timestamp, path)
        return {**params, "api_username": username, "timestamp": timestamp, "signature": signature}

    async def get(
        self, path: str, params: Mapping[str, str] | None = None, *, big: bool = False
    ) -> Doc | None:
        """The `response` object at `path` (under the base URL), None for 404."""
        url = self.base + path
        for attempt in range(RETRIES + 1):
            done, doc = await self._try(url, params or {}, big, last=attempt == RETRIES)
            if done:
                return doc
            await asyncio.sleep(BACKOFF * 2**attempt)
        raise AssertionError("unreachable")

    async def _try(
        self, url: str, params: Mapping[str, str], big: bool, *, last: bool
    ) -> tuple[bool, Doc | None]:
        """(True, answer) when this try settled it, (False, None) when another try may."""
        query = self.signed(httpx.URL(url).path, params)
        size = MAX_LIST_BODY if big else MAX_BODY
        try:
            status, body, _ = await fetch(self.http, "GET", url, size, params=query)
        except RateLimited as exc:
            raise RateLimited("DomainTools: rate limited (HTTP 429)", exc.retry_after) from exc
        except Unavailable as exc:  # a connection failure is chained to httpx's error
            if last or not isinstance(exc.__cause__, httpx.TransportError):
                raise
            return False, None
        if not last and _worth_retrying(status, body):
            return False, None
        return True, judge(status, body)
