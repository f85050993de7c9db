"""Slack test kit: the app served over HTTP on loopback, signed requests, a recording fake API.

    async with SlackHarness(service) as slack:
        response = await slack.command("qpdar[.]pw")
        await slack.settle()
        assert slack.fake.by_bot()[0].text ...

`FakeService` stands in for the enrichment service only in tests about Slack mechanics
(signatures, dedupe); flows go through the real Service against loopback servers.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from bot.app import Bot, Identity, build_app, make_client
from bot.console import payloads
from bot.console.fake_slack import Posted
from bot.server import PATH, start_http
from bot.settings import SlackSettings
from bot.state import Store, open_state
from enrichment.errors import InvalidInput
from enrichment.index.model import Sighting
from enrichment.model import (
    Indicator,
    Kind,
    PivotItem,
    PivotOffer,
    PivotPage,
    Report,
    SourceResult,
    Status,
)
from tests.servers.slack_api import RecordingSlack

SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-CANARY-bot-token-5f1e2d"
CHANNEL, USER = "C1", "U1"


class FakeService:
    """The two calls bot/ makes, answering from memory, counting what it was asked."""

    def __init__(self) -> None:
        self.enriched: list[Indicator] = []
        self.pivoted: list[tuple[str, Indicator, int]] = []
        self.sightings: list[Sighting] = []

    async def enrich(self, indicator: Indicator) -> Report:
        self.enriched.append(indicator)
        result = SourceResult("dns", Status.OK, {"a": ["192.0.2.1"]})
        offers = (PivotOffer("resolve", "Resolve", indicator.value, 1),)
        return Report(indicator, {"dns": result}, {"a": ["192.0.2.1"]}, pivots=offers)

    async def pivot(
        self, pivot_id: str, subject: Indicator, page: int = 1, *, target: str | None = None
    ) -> PivotPage:
        if pivot_id != "resolve":
            raise InvalidInput(f"unknown pivot {pivot_id!r}")
        self.pivoted.append((pivot_id, subject, page))
        item = PivotItem(Indicator(Kind.IPV4, "192.0.2.1", "192.0.2[.]1"), source="dns")
        return PivotPage("resolve", subject, (item,), total=1, page=page)

    async def pivot_all(
        self, pivot_id: str, subject: Indicator, *, target: str | None = None
    ) -> list[PivotItem]:
        return list((await self.pivot(pivot_id, subject, target=target)).items)

    async def record_sighting(self, sighting: Sighting) -> None:
        self.sightings.append(sighting)


def buttons(posted: Posted) -> list[dict[str, Any]]:
    """Every button of a message, as an action dict a click would carry."""
    found = []
    for block in posted.blocks:
        elements = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button":
                found.append(
                    {
                        "action_id": element["action_id"],
                        "block_id": block.get("block_id"),
                        "value": element.get("value"),
                        "text": element.get("text"),
                    }
                )
    return found


def button(posted: Posted, action_prefix: str) -> dict[str, Any]:
    matches = [b for b in buttons(posted) if b["action_id"].startswith(action_prefix)]
    assert matches, f"no {action_prefix} button in {[b['action_id'] for b in buttons(posted)]}"
    return matches[0]


def everything_posted(fake: RecordingSlack) -> str:
    """Every byte the bot sent to Slack (API calls and response URLs), as one string."""
    return "\n".join(json.dumps(c.body, ensure_ascii=False) for c in fake.calls)


class SlackHarness:
    """The bot served over HTTP on 127.0.0.1:0, signed by SECRET, talking to a RecordingSlack."""

    def __init__(
        self,
        service: Any,
        settings: SlackSettings | None = None,
        *,
        identity: Identity | None = Identity(),
        state: Store | None = None,
        allowlist: tuple[str, ...] = (),
    ) -> None:
        self.allowlist = allowlist
        self.service = service
        self.state_dir = tempfile.mkdtemp(prefix="pivot-state-") if state is None else None
        self.state = state or open_state(Path(self.state_dir or "."))
        self.fake = RecordingSlack()
        self.base_settings = settings or SlackSettings()
        self.identity = identity

    async def __aenter__(self) -> SlackHarness:
        self.fake.start()
        self.settings = replace(
            self.base_settings,
            bot_token=BOT_TOKEN,
            signing_secret=SECRET,
            api_url=self.fake.api_url,
        )
        client = make_client(self.settings)
        self.bot: Bot = build_app(
            self.settings,
            client=client,
            service=self.service,
            state=self.state,
            identity=self.identity,
            allowlist=self.allowlist,
        )
        self.runner, port = await start_http(self.bot)
        self.url = f"http://127.0.0.1:{port}{PATH}"
        self.http = httpx.AsyncClient(timeout=10)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.http.aclose()
        await self.bot.drain()
        await self.runner.cleanup()
        await self.bot.aclose()
        self.fake.stop()
        if self.state_dir is not None:
            await self.state.aclose()
            shutil.rmtree(self.state_dir, ignore_errors=True)

    async def settle(self) -> None:
        await self.bot.drain()

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        secret: str = SECRET,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        signed = payloads.signed_headers(secret, body, content_type, timestamp)
        return await self.http.post(self.url, content=body, headers={**signed, **(headers or {})})

    async def command(self, text: str, channel: str = CHANNEL, **kw: Any) -> httpx.Response:
        url = self.fake.response_url(channel, USER)
        body = payloads.slash_command(text, channel=channel, user=USER, response_url=url)
        return await self.send(body, payloads.FORM, **kw)

    async def message(
        self,
        text: str,
        channel: str = CHANNEL,
        *,
        event_id: str | None = None,
        ts: str | None = None,
        headers: dict[str, str] | None = None,
        **event: Any,
    ) -> tuple[httpx.Response, Posted]:
        """A person's message: recorded in the fake (for its ts) and delivered as an event."""
        posted = self.fake.user_message(channel, text, user=event.get("user", USER))
        fields = {"channel": channel, "user": USER, "text": text, "ts": ts or posted.ts, **event}
        body = payloads.message_event(fields, event_id=event_id)
        response = await self.send(body, payloads.JSON, headers=headers)
        return response, posted

    async def event(self, event: dict[str, Any], *, event_id: str | None = None) -> httpx.Response:
        return await self.send(payloads.message_event(event, event_id=event_id), payloads.JSON)

    async def click(self, posted: Posted, action: dict[str, Any]) -> httpx.Response:
        message = posted.as_clicked(self.fake.user_id, self.fake.bot_id)
        url = self.fake.response_url(posted.channel, USER)
        body = payloads.block_action(
            action, channel=posted.channel, user=USER, response_url=url, message=message
        )
        return await self.send(body, payloads.FORM)

    async def shortcut(self, posted: Posted) -> httpx.Response:
        message = {"ts": posted.ts, "text": posted.text, "user": posted.user}
        if posted.thread_ts:
            message["thread_ts"] = posted.thread_ts
        url = self.fake.response_url(posted.channel, USER)
        body = payloads.message_shortcut(
            message, channel=posted.channel, user=USER, response_url=url
        )
        return await self.send(body, payloads.FORM)

    def bot_messages(self, channel: str = CHANNEL) -> list[Posted]:
        """What the bot posted for everyone in `channel` (ephemeral answers left out)."""
        return [m for m in self.fake.by_bot() if m.channel == channel and not m.ephemeral_to]

    def replies_to(self, parent: Posted) -> list[Posted]:
        return [m for m in self.fake.by_bot() if m.thread_ts == parent.ts]


def texts(messages: Iterable[Posted]) -> Sequence[str]:
    return [m.text for m in messages]
