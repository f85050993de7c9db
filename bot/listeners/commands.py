"""`/pivot <text>`: a placeholder card per indicator in the channel, updated in place."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.buttons import Place
from bot.deps import Deps
from bot.listeners._flow import (
    NOT_A_MEMBER,
    Seen,
    enrich_all,
    find_indicators,
    post,
    remember,
    slack_error,
    spawn,
    summary_for,
    team_of,
    tell,
    update,
)
from bot.render.cards import error_card, placeholder_card, report_card, usage_card
from enrichment.model import Indicator


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/pivot")
    async def pivot_command(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        spawn(deps, run(deps, body, client, respond), body)


async def run(
    deps: Deps, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
) -> None:
    indicators = find_indicators(str(command.get("text") or ""), bare=True)
    if not indicators:
        await tell(respond, usage_card())
        return
    cap = deps.settings.max_cards
    shown, left_out = indicators[:cap], max(0, len(indicators) - cap)
    place = Place(team_of(command), str(command.get("channel_id") or ""))
    try:
        slots = [await post(client, place.channel, placeholder_card(i)) for i in shown]
    except SlackApiError as exc:
        if slack_error(exc) not in NOT_A_MEMBER:
            raise
        await answer_by_response_url(deps, respond, place, shown, left_out)
        return
    if left_out:
        await tell(respond, error_card(_left_out_note(cap, left_out)))
    await asyncio.gather(
        *(fill(deps, client, place, ts, i) for ts, i in zip(slots, shown, strict=True))
    )
    await remember(deps, shown, seen_by(command, place, slots[0]))


def seen_by(command: dict[str, Any], place: Place, ts: str) -> Seen:
    """Who ran the command where, by the names the command itself carries."""
    user = str(command.get("user_name") or command.get("user_id") or "")
    channel = command.get("channel_name")
    shown = f"#{channel}" if channel and channel != "directmessage" else None
    return Seen(place, user, ts, shown)


async def fill(
    deps: Deps, client: AsyncWebClient, place: Place, ts: str, indicator: Indicator
) -> None:
    report = await deps.service.enrich(indicator)
    here = replace(place, ts=ts)  # the placeholder's message: the card's buttons work there
    card = await deps.card(lambda keys: report_card(report, keys), here, indicator)
    await update(client, place.channel, ts, card.message)


async def answer_by_response_url(
    deps: Deps,
    respond: AsyncRespond,
    place: Place,
    indicators: Sequence[Indicator],
    left_out: int,
) -> None:
    """The bot is not in this conversation: one answer through the command's response URL
    (it takes five messages at most, so several indicators share one summary card)."""
    reports = await enrich_all(deps, indicators)
    if len(reports) == 1 and not left_out:
        only = reports[0]
        card = await deps.card(lambda keys: report_card(only, keys), place, only.indicator)
    else:
        card = await summary_for(deps, place, reports, left_out)
    await respond(response_type="in_channel", replace_original=False, **card.message.kwargs())


def _left_out_note(cap: int, left_out: int) -> str:
    return (
        f"Showing the first {cap} indicators; {left_out} more were left out. "
        "Run /pivot again with the rest."
    )
