"""Every pivot button (action id `pivot:...`): one handler, each result posted in the thread.

The button's value is a key to context in the state store (see bot.buttons); an expired key
gets an ephemeral "run /pivot again". A double click gives one result: the first (message,
key) pair is claimed with the store's atomic `add` for a few minutes. The listener only acks
and hands the click to a task, so Slack has its answer before any store is touched.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.buttons import Button, Place
from bot.deps import Card, Deps
from bot.listeners._flow import post_or_respond, spawn, team_of, tell
from bot.listeners.exports import export, file_part, upload
from bot.render.cards import Message, breakdown_card, error_card, pivot_card, report_card
from bot.render.controls import KeyMaker
from bot.render.escape import clean, defang_text
from enrichment.errors import InvalidInput
from enrichment.indicators import parse_indicator
from enrichment.model import Indicator, PivotPage, Report

CLICK_TTL = 300.0
INLINE_TEXT_MAX = 6000  # longer documents (raw WHOIS) go up whole, as a file in the thread
CARDS: dict[str, Callable[[Report, KeyMaker], Message]] = {
    "card": report_card,
    "risk": lambda report, _keys: breakdown_card(report),
}
EXPIRED = "This button has expired. Run /pivot again for a fresh card."
GONE = "That is no longer something I can look up. Run /pivot again."


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action(re.compile(r"^pivot:"))
    async def pivot_button(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        spawn(deps, click(deps, body, str(action.get("value") or ""), client, respond), body)


async def click(
    deps: Deps, body: dict[str, Any], value: str, client: AsyncWebClient, respond: AsyncRespond
) -> None:
    button = await deps.buttons.load(value)
    channel, message_ts, thread_ts = where(body)
    team = team_of(body)
    if button is None or not button.place.holds(team, channel, message_ts):
        # expired, unknown, or made for another workspace, conversation or message
        await tell(respond, error_card(EXPIRED))
        return
    if await deps.once(f"click:{team}:{channel}:{message_ts}:{value}", CLICK_TTL):
        await press(deps, button, client, respond, (Place(team, channel), thread_ts))


def where(body: dict[str, Any]) -> tuple[str, str, str]:
    """(channel, the clicked message's ts, the thread its results go to)."""
    message = body.get("message") or {}
    container = body.get("container") or {}
    channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    message_ts = str(message.get("ts") or container.get("message_ts") or "")
    thread_ts = str(message.get("thread_ts") or container.get("thread_ts") or message_ts)
    return channel, message_ts, thread_ts


async def press(
    deps: Deps,
    button: Button,
    client: AsyncWebClient,
    respond: AsyncRespond,
    where: tuple[Place, str],
) -> None:
    place, thread_ts = where
    if button.action.startswith("export:"):
        await export(deps, button, client, respond, (place.channel, thread_ts))
        return
    try:
        result = await outcome(deps, button, place)
    except InvalidInput as exc:
        await tell(respond, error_card(str(exc)))
        return
    if isinstance(result, PivotPage):
        page = result
        long_text = page.text is not None and len(page.text) > INLINE_TEXT_MAX
        if long_text and await upload_page(client, page, (place.channel, thread_ts)):
            return
        render = functools.partial(pivot_card, page)
        card = await deps.card(render, place, page.subject, known(page))
    else:
        card = result
    await post_or_respond(client, respond, place.channel, card, thread_ts)


async def outcome(deps: Deps, button: Button, place: Place) -> Card | PivotPage:
    """`card` opens an indicator's full card; `risk` breaks down the score its card showed
    (kept with the button: enriching again could score anew, the index having learnt since);
    any other action is a pivot id, run on the button's target from its card's subject
    (paging buttons are the same pivot with another page number)."""
    if button.action in CARDS:
        indicator = target_of(button)
        if button.action == "risk" and button.risk is not None:
            report = Report(indicator, {}, {}, risk=button.risk)
        else:  # a record from before buttons kept the risk
            report = await deps.service.enrich(indicator)
        render = CARDS[button.action]
        return await deps.card(functools.partial(render, report), place, indicator)
    subject = button.subject or target_of(button)
    page = max(1, button.page)
    return await deps.service.pivot(button.action, subject, page, target=button.target)


def target_of(button: Button) -> Indicator:
    indicator = button.target_indicator or parse_indicator(button.target)
    if indicator is None:
        raise InvalidInput(GONE)
    return indicator


def known(page: PivotPage) -> list[Indicator]:
    return [page.subject, *(item.indicator for item in page.items)]


async def upload_page(client: AsyncWebClient, page: PivotPage, place: tuple[str, str]) -> bool:
    """A long document, whole, as a text file in the thread (defanged, so no client turns a
    line into a link); False when files are not allowed here."""
    safe = file_part(page.subject.defanged)
    text = defang_text(clean(page.text or "", multiline=True))
    return await upload(client, place, f"{page.pivot}-{safe}.txt", f"{page.pivot} {safe}", text)
