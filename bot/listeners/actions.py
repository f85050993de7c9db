"""Every pivot button (action id `pivot:...`): one handler, each result posted in the thread.

The button's value is a key to context in the cache (see bot.deps); an expired key gets an
ephemeral "run /pivot again". A double click gives one result: the first (message, key) pair
is claimed with the cache's atomic `add` for a few minutes.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Button, Deps
from bot.listeners._flow import post_or_respond, slack_error, spawn, tell
from bot.render.cards import Message, error_card, pivot_card, report_card
from bot.render.escape import clean, defang_text
from enrichment.errors import InvalidInput
from enrichment.indicators import parse_indicator
from enrichment.model import Indicator, PivotPage

CLICK_TTL = 300.0
INLINE_TEXT_MAX = 6000  # longer documents (raw WHOIS) go up whole, as a file in the thread
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
        value = str(action.get("value") or "")
        button = deps.buttons.load(value)
        if button is None:
            spawn(deps, tell(respond, error_card(EXPIRED)), body)
            return
        channel, message_ts, thread_ts = where(body, button)
        if deps.once(f"click:{channel}:{message_ts}:{value}", CLICK_TTL):
            spawn(deps, press(deps, button, client, respond, (channel, thread_ts)), body)


def where(body: dict[str, Any], button: Button) -> tuple[str, str, str]:
    """(channel, the clicked message's ts, the thread its results go to)."""
    message = body.get("message") or {}
    container = body.get("container") or {}
    channel = str(
        (body.get("channel") or {}).get("id") or container.get("channel_id") or button.channel
    )
    message_ts = str(message.get("ts") or container.get("message_ts") or "")
    thread_ts = str(message.get("thread_ts") or container.get("thread_ts") or message_ts)
    return channel, message_ts, thread_ts


async def press(
    deps: Deps,
    button: Button,
    client: AsyncWebClient,
    respond: AsyncRespond,
    place: tuple[str, str],
) -> None:
    channel, thread_ts = place
    try:
        result = await outcome(deps, button, channel)
    except InvalidInput as exc:
        await tell(respond, error_card(str(exc)))
        return
    if isinstance(result, PivotPage):
        if (
            result.text
            and len(result.text) > INLINE_TEXT_MAX
            and await upload(client, result, place)
        ):
            return
        result = pivot_card(result, deps.buttons.maker(channel, result.subject, known(result)))
    await post_or_respond(client, respond, channel, result, thread_ts)


async def outcome(deps: Deps, button: Button, channel: str) -> Message | PivotPage:
    """`card` opens an indicator's full card; any other action is a pivot id (paging buttons
    are the same pivot with another page number)."""
    if button.action == "card":
        indicator = target_of(button)
        report = await deps.service.enrich(indicator)
        return report_card(report, deps.buttons.maker(channel, indicator))
    return await deps.service.pivot(button.action, target_of(button), max(1, button.page))


def target_of(button: Button) -> Indicator:
    indicator = button.target_indicator or parse_indicator(button.target)
    if indicator is None:
        raise InvalidInput(GONE)
    return indicator


def known(page: PivotPage) -> list[Indicator]:
    return [page.subject, *(item.indicator for item in page.items)]


async def upload(client: AsyncWebClient, page: PivotPage, place: tuple[str, str]) -> bool:
    """A long document, whole, as a text file in the thread (defanged, so no client turns a
    line into a link); False when files are not allowed here."""
    channel, thread_ts = place
    safe = re.sub(r"[^\w.\[\]-]+", "_", page.subject.defanged)[:80]
    try:
        await client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            filename=f"{page.pivot}-{safe}.txt",
            title=f"{page.pivot} {safe}",
            content=defang_text(clean(page.text or "", multiline=True)),
        )
    except SlackApiError as exc:
        if slack_error(exc) in {"missing_scope", "not_in_channel", "channel_not_found"}:
            return False
        raise
    return True
