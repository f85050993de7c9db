"""Auto-enrichment: a message with indicators gets exactly one threaded summary.

Only people's new messages count: every bot (ours included), edits, deletions, joins and other
hidden subtypes are acknowledged and dropped by a no-op listener, so Bolt logs nothing about
them. Exactly once: the event id and the message's (channel, ts) are both claimed with the
state store's atomic `add`, so Slack's retries and one message delivered as two events are
answered once, across processes. The listener only hands the event to a task: extraction and
the claims run after Slack has its acknowledgement.

The message's `text` is read, not its rich_text blocks: Slack mirrors every link, mailto and
mention of the blocks into `text` as `<url|label>` markup, which extraction unwraps, so walking
the blocks would find nothing more.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.buttons import Place
from bot.deps import Deps
from bot.listeners._flow import (
    Seen,
    enrich_all,
    find_indicators,
    post,
    remember,
    spawn,
    summary_for,
    team_of,
)
from bot.settings import AutoMode, SlackSettings
from enrichment.model import Indicator
from enrichment.privacy import allowlisted

HUMAN_SUBTYPES = frozenset({"", "thread_broadcast", "file_share"})
SEEN_TTL = 24 * 3600.0
REACTION = "mag"


def register(app: AsyncApp, deps: Deps) -> None:
    async def from_a_person(event: dict[str, Any]) -> bool:
        return (
            str(event.get("subtype") or "") in HUMAN_SUBTYPES
            and not event.get("bot_id")
            and not event.get("bot_profile")
            and bool(event.get("user"))
        )

    @app.event("message", matchers=[from_a_person])
    async def on_message(
        body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        spawn(deps, answer(deps, client, body, event), body)

    @app.event("message")
    async def ignore(body: dict[str, Any]) -> None:
        """Bots, edits, deletions, joins: acknowledged, never answered."""


def listening(settings: SlackSettings, channel: str) -> bool:
    """True when messages in `channel` are enriched automatically."""
    if settings.auto is AutoMode.OFF:
        return False
    return not settings.auto_channels or channel in settings.auto_channels


async def first_time(deps: Deps, body: dict[str, Any], event: dict[str, Any]) -> bool:
    """Claims the event and the message (Slack's retries, one message sent as two events):
    True for the one delivery that should be answered."""
    team = str(body.get("team_id") or "")
    event_id = body.get("event_id") or event.get("client_msg_id")
    if not await deps.once(f"event:{team}:{event_id}", SEEN_TTL):
        return False
    message = f"message:{team}:{event.get('channel')}:{event.get('ts')}"
    return await deps.once(message, SEEN_TTL)


async def wanted(deps: Deps, body: dict[str, Any], event: dict[str, Any]) -> list[Indicator]:
    """The indicators to answer for, or none; claims the message when there are some."""
    settings = deps.settings
    if not listening(settings, str(event.get("channel") or "")):
        return []
    found = find_indicators(str(event.get("text") or ""))
    indicators = [i for i in found if not allowlisted(i, deps.allowlist)]
    if not indicators or not await first_time(deps, body, event):
        return []
    return indicators


async def answer(
    deps: Deps, client: AsyncWebClient, body: dict[str, Any], event: dict[str, Any]
) -> None:
    indicators = await wanted(deps, body, event)
    if not indicators:
        return
    channel, ts = str(event["channel"]), str(event["ts"])
    cap = deps.settings.max_summary
    reports = await enrich_all(deps, indicators[:cap])
    if deps.settings.auto is AutoMode.REACT:
        floor = deps.settings.auto_min_score
        if not any((r.risk.score or 0) > floor for r in reports):
            await client.reactions_add(channel=channel, timestamp=ts, name=REACTION)
            return
    place = Place(team_of(body), channel)
    message = await summary_for(deps, place, reports, max(0, len(indicators) - cap))
    await post(client, channel, message, thread_ts=str(event.get("thread_ts") or ts))
    await remember(deps, indicators[:cap], Seen(place, str(event.get("user") or ""), ts))
