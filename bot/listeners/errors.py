"""The one error handler: every bug, from a listener or from work started after an ack.

It logs what kind of request failed and where (ids only: never text, bodies or tokens) with the
traceback, and tells the user something short when Slack gave us a way to reach them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.response_urls import Ignored, ResponseUrls

log = logging.getLogger("bot.errors")

SORRY = "Something went wrong on our side while pivoting; it has been logged. Try again later."


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(*values: Any) -> Any:
    return next((v for v in values if v), None)


def describe(body: dict[str, Any]) -> str:
    """What failed and where, from ids Slack sent: safe to log."""
    event = _dict(body.get("event"))
    actions = [_dict(a).get("action_id") for a in body.get("actions") or []]
    parts = {
        "type": _first(body.get("type"), body.get("command") and "slash_command", "unknown"),
        "command": body.get("command"),
        "callback_id": body.get("callback_id"),
        "event": event.get("type"),
        "actions": ",".join(str(a) for a in actions),
        "team": _first(body.get("team_id"), _dict(body.get("team")).get("id")),
        "channel": _first(
            body.get("channel_id"), _dict(body.get("channel")).get("id"), event.get("channel")
        ),
        "user": _first(body.get("user_id"), _dict(body.get("user")).get("id"), event.get("user")),
    }
    return " ".join(f"{k}={str(v)[:80]!r}" for k, v in parts.items() if v)


async def handle_error(error: Exception, body: dict[str, Any], urls: ResponseUrls) -> None:
    log.error("%s while handling %s", type(error).__name__, describe(body), exc_info=error)
    url = body.get("response_url")
    if url is None:
        return
    if not urls.allows(url):
        urls.refuse(url)
        return
    try:
        await AsyncWebhookClient(url).send(
            text=SORRY, response_type="ephemeral", replace_original=False
        )
    except (SlackApiError, ClientError, TimeoutError) as exc:
        log.warning("could not tell the user about the failure: %s", type(exc).__name__)


def register(app: AsyncApp, urls: ResponseUrls) -> None:
    @app.middleware
    async def slack_response_urls_only(
        context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        """A response_url that is not Slack's is never posted to by any listener."""
        url = context.response_url
        if url is not None and not urls.allows(url):
            urls.refuse(url)
            context["response_url"] = None
            context["respond"] = Ignored()
        await next()

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        await handle_error(error, body, urls)
