"""Steps the listeners share: find indicators, enrich them, post cards where Slack lets us."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.buttons import Place
from bot.deps import Card, Deps
from bot.listeners.errors import handle_error
from bot.render.cards import Message, summary_card
from enrichment.index.model import Sighting
from enrichment.indicators import extract_indicators, parse_indicator
from enrichment.model import Indicator, Report

NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found"})


def find_indicators(text: str, *, bare: bool = False) -> list[Indicator]:
    """Every indicator in `text`, in order, once each; with `bare`, a lone word is tried as
    one (so `/pivot invoice.zip` works where free-text extraction is stricter)."""
    found = extract_indicators(text)
    word = text.strip()
    if not found and bare and word and len(word.split()) == 1:
        single = parse_indicator(word)
        found = [single] if single is not None else []
    seen: set[tuple[str, str]] = set()
    unique = []
    for indicator in found:
        if (indicator.kind.value, indicator.value) not in seen:
            seen.add((indicator.kind.value, indicator.value))
            unique.append(indicator)
    return unique


def spawn(deps: Deps, work: Awaitable[None], body: dict[str, Any]) -> None:
    """Run the slow part after the ack; a bug in it goes to the app's one error handler."""
    deps.tasks.spawn(work, partial(handle_error, body=body, urls=deps.response_urls))


def slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") or "")


async def post(
    client: AsyncWebClient, channel: str, message: Message | Card, thread_ts: str | None = None
) -> str:
    """Post `message` (its kwargs carry unfurl_links/unfurl_media False); return its ts.
    A card's buttons are then tied to the message."""
    card, message = (message, message.message) if isinstance(message, Card) else (None, message)
    kwargs = message.kwargs()
    if thread_ts:
        kwargs["thread_ts"] = thread_ts
    response = await client.chat_postMessage(channel=channel, **kwargs)
    ts = str(response["ts"])
    if card is not None:
        await card.posted(ts)
    return ts


async def update(client: AsyncWebClient, channel: str, ts: str, message: Message) -> None:
    kwargs = {k: v for k, v in message.kwargs().items() if not k.startswith("unfurl_")}
    await client.chat_update(channel=channel, ts=ts, **kwargs)


async def tell(respond: AsyncRespond | None, message: Message) -> None:
    """A short answer only the user sees (a mistake, an expired button, nothing found)."""
    if respond is not None:
        await respond(response_type="ephemeral", replace_original=False, **message.kwargs())


async def post_or_respond(
    client: AsyncWebClient,
    respond: AsyncRespond | None,
    channel: str,
    message: Message | Card,
    thread_ts: str | None = None,
) -> None:
    """Post in the channel; where the bot is not a member, answer through the response URL."""
    try:
        await post(client, channel, message, thread_ts)
    except SlackApiError as exc:
        if slack_error(exc) not in NOT_A_MEMBER or respond is None:
            raise
        kwargs = (message.message if isinstance(message, Card) else message).kwargs()
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        await respond(response_type="in_channel", replace_original=False, **kwargs)


async def enrich_all(deps: Deps, indicators: Sequence[Indicator]) -> list[Report]:
    return list(await asyncio.gather(*(deps.service.enrich(i) for i in indicators)))


def team_of(body: dict[str, Any]) -> str:
    """The workspace a request came from (slash commands and events say it one way, buttons
    and shortcuts another)."""
    team = body.get("team")
    team_id = team.get("id") if isinstance(team, dict) else None
    return str(body.get("team_id") or team_id or "")


async def summary_for(deps: Deps, place: Place, reports: list[Report], left_out: int) -> Card:
    limit = deps.settings.max_summary
    return await deps.card(
        lambda keys: summary_card(reports, keys, left_out=left_out, limit=limit),
        place,
        known=[r.indicator for r in reports],
    )


async def reply_in_thread(
    deps: Deps,
    client: AsyncWebClient,
    respond: AsyncRespond | None,
    where: tuple[Place, str],
    indicators: Sequence[Indicator],
) -> None:
    """One threaded summary of every indicator (up to the cap) under the message at `where`."""
    place, thread_ts = where
    cap = deps.settings.max_summary
    reports = await enrich_all(deps, indicators[:cap])
    message = await summary_for(deps, place, reports, max(0, len(indicators) - cap))
    await post_or_respond(client, respond, place.channel, message, thread_ts)


@dataclass(frozen=True)
class Seen:
    """Where and by whom indicators came up: a message, a /pivot, a shortcut."""

    place: Place
    user: str
    ts: str
    channel_name: str | None = None


async def remember(deps: Deps, indicators: Sequence[Indicator], seen: Seen) -> None:
    """Record each indicator as seen here, after its card went out (so a card never counts
    the message it answers)."""
    now = time.time()
    for indicator in indicators:
        await deps.service.record_sighting(
            Sighting(
                indicator.value,
                indicator.kind.value,
                seen.place.team,
                seen.place.channel,
                seen.user,
                seen.ts,
                now,
                channel_name=seen.channel_name,
            )
        )
