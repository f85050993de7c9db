"""Requests as Slack sends them: signed slash commands, events, button clicks and shortcuts.

The console drives the app with these, and the tests and the benchmark use the same builders,
so all three go through Bolt's real request path (signature check included).
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_ids = itertools.count(1)


def signed_headers(
    secret: str, body: str, content_type: str, timestamp: int | None = None
) -> dict[str, str]:
    """Headers Slack would send with `body`: v0 HMAC-SHA256 over "v0:<ts>:<body>"."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body) or ""
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
    }


def slash_command(
    text: str,
    *,
    channel: str,
    user: str,
    response_url: str,
    team: str = "T1",
    command: str = "/pivot",
) -> str:
    return urlencode(
        {
            "token": "legacy-unused",
            "team_id": team,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "soc",
            "user_id": user,
            "user_name": "analyst",
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": f"{next(_ids)}.trigger",
        }
    )


def message_event(
    event: dict[str, Any], *, team: str = "T1", event_id: str | None = None, bot_user: str = "UBOT"
) -> str:
    """An event_callback envelope around `event` (channel, user, text, ts, ...)."""
    body = {
        "token": "legacy-unused",
        "team_id": team,
        "api_app_id": "A1",
        "event": {"type": "message", "channel_type": "channel", **event},
        "type": "event_callback",
        "event_id": event_id or f"Ev{secrets.token_hex(6).upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": bot_user, "is_bot": True}],
    }
    return json.dumps(body)


def block_action(
    action: dict[str, Any],
    *,
    channel: str,
    user: str,
    response_url: str,
    message: dict[str, Any] | None,
    team: str = "T1",
) -> str:
    """A click on `action` (a button dict from a card) in `message` (None: an ephemeral one)."""
    container: dict[str, Any] = {"type": "message", "channel_id": channel}
    if message is not None:
        container["message_ts"] = message.get("ts")
        if message.get("thread_ts"):
            container["thread_ts"] = message["thread_ts"]
    container["is_ephemeral"] = message is None
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team, "domain": "fake"},
        "user": {"id": user, "name": "analyst", "team_id": team},
        "api_app_id": "A1",
        "token": "legacy-unused",
        "container": container,
        "trigger_id": f"{next(_ids)}.trigger",
        "channel": {"id": channel, "name": "soc"},
        "response_url": response_url,
        "actions": [{"type": "button", "action_ts": str(time.time()), **action}],
    }
    if message is not None:
        payload["message"] = message
    return urlencode({"payload": json.dumps(payload)})


def message_shortcut(
    message: dict[str, Any],
    *,
    channel: str,
    user: str,
    response_url: str,
    team: str = "T1",
    callback_id: str = "pivot_message",
) -> str:
    payload = {
        "type": "message_action",
        "token": "legacy-unused",
        "action_ts": str(time.time()),
        "team": {"id": team, "domain": "fake"},
        "user": {"id": user, "name": "analyst", "team_id": team},
        "channel": {"id": channel, "name": "soc"},
        "callback_id": callback_id,
        "trigger_id": f"{next(_ids)}.trigger",
        "message_ts": message.get("ts"),
        "message": {"type": "message", **message},
        "response_url": response_url,
    }
    return urlencode({"payload": json.dumps(payload)})
