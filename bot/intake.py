"""HTTP mode's front door: verify, acknowledge at once, let Bolt work behind.

For every POST to /slack/events, in this order:

1. the body is at most 1 MiB (aiohttp answers 413 past that, before reading it all);
2. the signature and timestamp are verified here, before anything parses the body: a request
   that does not verify, for whatever reason (no headers, a timestamp that is not a whole
   number, stale, a bad signature), gets 401 and one log line without the body. Bolt's own
   verifier raises on a malformed timestamp and would hand its error handler an unverified
   body, so Bolt's check is switched off and this one is the only one;
3. the body must be what Slack sends (a JSON object, or a form with a JSON-object payload or a
   slash command), else 400 and one log line;
4. Slack gets its 200 at once: every acknowledgement the app gives is empty, so nothing is lost
   by answering before Bolt runs (url_verification and ssl_check, which need an answer body,
   are dispatched inline). Bolt then handles the request in the background, a few at a time,
   so a burst of events never makes the acknowledgements of the next ones wait;
5. a request whose signature was already seen is a replay (Slack signs every delivery anew,
   retries included): acknowledged, logged, and not acted on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import Bot
from bot.state import NAMESPACE, StoreError

log = logging.getLogger("bot.intake")

MAX_SKEW = 300  # seconds: Slack's own limit for a request's timestamp
REPLAY_TTL = 2 * MAX_SKEW + 60
INLINE = frozenset({"url_verification", "ssl_check"})
FORM = "application/x-www-form-urlencoded"


class Refused(Exception):
    """Why a request gets no further; the message is safe to log (never the body)."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status


def _timestamp(headers: Any, now: float | None) -> str:
    stamp = str(headers.get("X-Slack-Request-Timestamp") or "")
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise Refused(401, "missing or malformed timestamp")
    if abs((time.time() if now is None else now) - int(stamp)) > MAX_SKEW:
        raise Refused(401, "stale timestamp")
    return stamp


def verify(secret: str, body: bytes, headers: Any, now: float | None = None) -> str:
    """The request's signature when it verifies; Refused(401) otherwise."""
    stamp = _timestamp(headers, now)
    signature = str(headers.get("X-Slack-Signature") or "")
    if not signature.startswith("v0=") or len(signature) > 100:
        raise Refused(401, "missing or malformed signature")
    base = b"v0:" + stamp.encode() + b":" + body  # the bytes as sent, decodable or not
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not secret or not hmac.compare_digest(expected, signature):
        raise Refused(401, "bad signature")
    return signature


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8") from None


def parse(text: str, content_type: str) -> dict[str, Any]:
    """The body as Bolt will read it, checked to be something Slack sends; Refused(400)."""
    if content_type.startswith(FORM):
        form = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
        if "payload" in form:
            return _object(form["payload"])
        if form.get("command"):
            return form
        raise Refused(400, "a form with neither a payload nor a command")
    return _object(text)


def _object(text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(400, "body is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("type", ""), str):
        raise Refused(400, "body is not a JSON object from Slack")
    return doc


class Intake:
    def __init__(self, bot: Bot, secret: str) -> None:
        self.bot = bot
        self.secret = secret

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.bot.deps.tasks.arrived()
        body = await request.read()
        try:
            verify(self.secret, body, request.headers)
            text = _text(body)
            doc = parse(text, request.content_type or "")
        except Refused as refused:
            log.warning("refused a request (%d): %s", refused.status, refused)
            return web.Response(status=refused.status)
        headers = _headers(request)
        if doc.get("type") in INLINE:
            bolt = AsyncBoltRequest(body=text, query=request.query_string, headers=headers)
            return await to_aiohttp_response(await self.bot.app.async_dispatch(bolt))
        work = self._behind(doc, text, request.query_string, headers)
        self.bot.deps.tasks.spawn(work, self._failed)
        return web.Response(status=200)

    async def _behind(
        self, doc: dict[str, Any], text: str, query: str, headers: dict[str, str | Sequence[str]]
    ) -> None:
        if await self._replayed(doc, headers):
            log.warning("ignored a replayed request (its signature was already seen)")
            return
        bolt = AsyncBoltRequest(body=text, query=query, headers=headers)
        await self.bot.app.async_dispatch(bolt)

    async def _replayed(self, doc: dict[str, Any], headers: dict[str, Any]) -> bool:
        """True for a second delivery of one signed request. Events are left to their own
        exactly-once claims (by event id and message), which also catch a replayed event."""
        if doc.get("type") == "event_callback":
            return False
        key = f"{NAMESPACE}request:{headers.get('x-slack-signature')}"
        try:
            return not await self.bot.deps.state.add(key, 1, REPLAY_TTL)
        except StoreError:
            # Cannot tell: let it through. Commands and clicks are not retried by Slack, and
            # what they do needs the same store (button keys, clicks' claims), which fails
            # there with the ephemeral error the user should see, not silence.
            return False

    @staticmethod
    async def _failed(error: Exception) -> None:
        log.error("dispatching a verified request failed", exc_info=error)


def _headers(request: web.Request) -> dict[str, str | Sequence[str]]:
    out: dict[str, str | Sequence[str]] = {}
    for key in set(request.headers):
        values = request.headers.getall(key)
        out[key.lower()] = values[0] if len(values) == 1 else list(values)
    return out
