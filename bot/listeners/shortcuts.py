"""The message shortcut "Pivot this message" (`pivot_message`): auto-enrichment on demand."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.buttons import Place
from bot.deps import Deps
from bot.listeners._flow import find_indicators, reply_in_thread, spawn, team_of, tell
from bot.render.cards import usage_card

NOTHING_FOUND = "That message holds no domain, IP, URL, e-mail address or hash I can look up."


def register(app: AsyncApp, deps: Deps) -> None:
    @app.shortcut("pivot_message")
    async def pivot_message(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        spawn(deps, run(deps, body, client, respond), body)


async def run(
    deps: Deps, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
) -> None:
    message = body.get("message") or {}
    indicators = find_indicators(str(message.get("text") or ""))
    if not indicators:
        await tell(respond, usage_card(NOTHING_FOUND))
        return
    channel = str((body.get("channel") or {}).get("id") or "")
    thread_ts = str(message.get("thread_ts") or message.get("ts") or "")
    place = Place(team_of(body), channel)
    await reply_in_thread(deps, client, respond, (place, thread_ts), indicators)
