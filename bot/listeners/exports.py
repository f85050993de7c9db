"""The Export buttons: a pivot's whole result set as CSV or STIX 2.1, or a card as STIX,
uploaded into the card's thread with files_upload_v2."""

from __future__ import annotations

import re

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.buttons import Button
from bot.deps import Deps
from bot.listeners._flow import slack_error, tell
from bot.render.cards import error_card
from enrichment.errors import InvalidInput
from enrichment.export import csv_text, stix_bundle
from enrichment.indicators import parse_indicator
from enrichment.model import Indicator

NO_FILES = "I cannot upload files here (the app needs files:write and to be in this channel)."
NOTHING = "There is nothing to export."


def file_part(text: str) -> str:
    """Outside text as part of a file name: word characters, dots, dashes and brackets only,
    no run of dots (`..`), at most 80 characters."""
    plain = re.sub(r"\.{2,}", ".", re.sub(r"[^\w.\[\]-]+", "_", text))
    return plain.strip("._")[:80] or "indicator"


async def upload(
    client: AsyncWebClient, place: tuple[str, str], filename: str, title: str, content: str
) -> bool:
    """`content` as a file in the thread at `place`; False when files are not allowed here."""
    channel, thread_ts = place
    try:
        await client.files_upload_v2(
            channel=channel, thread_ts=thread_ts, filename=filename, title=title, content=content
        )
    except SlackApiError as exc:
        if slack_error(exc) in {"missing_scope", "not_in_channel", "channel_not_found"}:
            return False
        raise
    return True


def _subject(button: Button) -> Indicator:
    subject = button.subject or button.target_indicator or parse_indicator(button.target)
    if subject is None:
        raise InvalidInput("That is no longer something I can look up. Run /pivot again.")
    return subject


async def export(
    deps: Deps,
    button: Button,
    client: AsyncWebClient,
    respond: AsyncRespond,
    place: tuple[str, str],
) -> None:
    """`export:<csv|stix>:<pivot id or "card">` on the button's target."""
    _, fmt, pivot = [*button.action.split(":", 2), "", ""][:3]
    subject = _subject(button)
    if pivot == "card":
        report = await deps.service.enrich(subject)
        name, content = "card", stix_bundle(f"Pivot: {subject.defanged}", [subject], report)
    else:
        items = await deps.service.pivot_all(pivot, subject, target=button.target)
        if not items:
            await tell(respond, error_card(NOTHING))
            return
        name = pivot
        content = (
            csv_text(items)
            if fmt == "csv"
            else stix_bundle(f"Pivot {pivot}: {subject.defanged}", [i.indicator for i in items])
        )
    safe = file_part(subject.defanged)
    ending = "csv" if fmt == "csv" else "stix.json"
    if not await upload(client, place, f"{name}-{safe}.{ending}", f"{name} {safe}", content):
        await tell(respond, error_card(NO_FILES))
