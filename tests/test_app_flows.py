"""The bot's flows end to end: signed HTTP into the app, the real Service asking loopback
servers, cards posted to the recording fake of Slack's Web API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.console.fake_slack import Posted
from bot.render.blockkit import validate
from enrichment.index.model import Listing
from enrichment.index.sqlite import SqliteIndex
from enrichment.indicators import parse_indicator
from enrichment.model import Indicator, Report
from enrichment.service import Service
from enrichment.settings import Settings
from tests.servers.dns_server import (
    MOAS_IP,
    QPDAR_IP,
    DnsServer,
)
from tests.servers.whois_server import WhoisServer
from tests.slack_helpers import CHANNEL, SlackHarness, button, buttons, everything_posted


def plain(posted: Posted) -> str:
    """A message's text and blocks with defanging undone, for asserting facts."""
    return json.dumps([posted.text, posted.blocks], ensure_ascii=False).replace("[.]", ".")


@pytest.fixture
async def service(dns_server: DnsServer, tmp_path: Path) -> AsyncIterator[Service]:
    settings = Settings(
        data_dir=tmp_path / "data",
        sources=("dns", "asn"),
        dns_servers=(dns_server.address,),
        deadline=3.0,
    )
    async with Service(settings) as svc:
        yield svc


@pytest.fixture
async def slack(service: Service) -> AsyncIterator[SlackHarness]:
    async with SlackHarness(service) as harness:
        yield harness


async def test_slash_command_acks_first_then_updates_the_placeholder_in_place(
    slack: SlackHarness, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()
    enrich = service.enrich

    async def held(indicator: Indicator) -> Report:
        await gate.wait()
        return await enrich(indicator)

    monkeypatch.setattr(service, "enrich", held)
    response = await slack.command("qpdar[.]pw")
    assert response.status_code == 200  # acknowledged while enrichment is still held
    assert slack.fake.calls_to("chat.update") == []
    gate.set()
    await slack.settle()
    (post,) = slack.fake.calls_to("chat.postMessage")
    assert post.body["unfurl_links"] is False
    assert post.body["unfurl_media"] is False
    (card,) = slack.bot_messages()
    assert card.version == 1  # the placeholder, updated once
    assert slack.fake.calls_to("chat.update")[0].body["ts"] == card.ts
    assert QPDAR_IP in plain(card)
    assert "qpdar[.]pw" in card.text


async def test_message_gets_exactly_one_threaded_reply_with_real_facts(
    slack: SlackHarness,
) -> None:
    _, first = await slack.message("Locky C2: hxxp://qpdar[.]pw/main.php and qpdar[.]pw")
    await slack.settle()
    (reply,) = slack.bot_messages()
    assert reply.thread_ts == first.ts
    assert QPDAR_IP in plain(reply)
    assert "qpdar.pw/main.php" in plain(reply)
    assert "http://" not in json.dumps(reply.blocks)


async def test_buttons_pivot_into_the_cards_thread(slack: SlackHarness) -> None:
    await slack.command("qpdar[.]pw")
    await slack.settle()
    (card,) = slack.bot_messages()
    await slack.click(card, button(card, "pivot:resolve"))
    await slack.settle()
    (result,) = slack.replies_to(card)
    assert QPDAR_IP in plain(result)
    await slack.click(result, button(result, "pivot:card"))
    await slack.settle()
    ip_card = slack.replies_to(card)[-1]
    assert ip_card is not result
    assert ip_card.thread_ts == card.ts  # still the card's thread, not the result's
    assert "60117" in plain(ip_card)  # the IP's AS, from the asn source


async def test_pivot_on_a_summary_line_opens_the_full_card_in_the_thread(
    slack: SlackHarness,
) -> None:
    _, first = await slack.message("look at qpdar[.]pw")
    await slack.settle()
    (summary,) = slack.replies_to(first)
    await slack.click(summary, button(summary, "pivot:card"))
    await slack.settle()
    card = slack.replies_to(first)[-1]
    assert card is not summary
    assert any(b["action_id"].startswith("pivot:resolve") for b in buttons(card))


async def test_hostile_strings_never_reach_slack_unescaped(slack: SlackHarness) -> None:
    hostile = (
        "<!channel> <@U0ADMIN> see <http://qpdar.pw|qpdar.pw> \x1b[31m\x00\u202e "
        + "A" * 10_000
        + f" {MOAS_IP}"
    )
    await slack.message(hostile)
    await slack.command(hostile[:3000])
    await slack.command("qpdar[.]pw")  # its TXT record holds <!channel> and a link
    await slack.command(MOAS_IP)  # its AS name holds <!channel> and a link
    await slack.settle()
    sent = everything_posted(slack.fake)
    assert "<!channel>" not in sent
    assert "<@U0ADMIN>" not in sent
    assert "<http" not in sent
    assert "\\u001b" not in sent and "\\u0000" not in sent and "\u202e" not in sent
    messages = [m for m in slack.fake.by_bot()]
    assert len(messages) >= 3
    for message in messages:
        assert validate(message.blocks, message.text) == [], message.text


async def test_card_text_is_within_slack_limits_for_long_input(slack: SlackHarness) -> None:
    response = await slack.command("x" * 10_000)
    await slack.settle()
    assert response.status_code == 200
    (usage,) = slack.fake.calls_to("response_url")
    assert usage.body["response_type"] == "ephemeral"
    assert len(usage.body["text"]) < 3000


async def test_a_lone_file_like_name_is_still_looked_up(slack: SlackHarness) -> None:
    await slack.command("invoice.zip")
    await slack.settle()
    (card,) = slack.bot_messages(CHANNEL)
    assert card.version == 1
    assert "invoice[.]zip" in card.text


async def test_long_raw_whois_goes_up_whole_as_a_defanged_file_in_the_thread(
    dns_server: DnsServer, whois_server: WhoisServer, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        sources=("dns", "whois"),
        dns_servers=(dns_server.address,),
        whois_server=whois_server.address,
        deadline=3.0,
    )
    async with Service(settings) as service, SlackHarness(service) as slack:
        await slack.command("hostile-registrant[.]com")
        await slack.settle()
        (card,) = slack.bot_messages()
        await slack.click(card, button(card, "pivot:raw_whois"))
        await slack.settle()
        _, _, uploads = slack.fake.snapshot()
    (upload,) = uploads
    assert (upload.channel, upload.thread_ts) == (CHANNEL, card.ts)
    text = upload.content.decode()
    assert len(text) > 10_000  # whole, not cut to fit a card
    assert "hostile-registrant[.]com" in text.lower()
    assert "http://" not in text and "https://" not in text
    assert slack.replies_to(card) == []  # the file is the answer; no card besides it


async def listed_qpdar(
    dns_server: DnsServer, tmp_path: Path, note: str
) -> tuple[SqliteIndex, Settings]:
    """An index where URLhaus lists qpdar.pw (with `note`), and settings that read it."""
    index = SqliteIndex(tmp_path / "story.sqlite3")
    await index.replace_listings(
        "urlhaus", [Listing("urlhaus", "qpdar.pw", "domain", note, 1.455e9)]
    )
    settings = Settings(
        data_dir=tmp_path / "data",
        sources=("dns", "feeds"),
        dns_servers=(dns_server.address,),
        deadline=3.0,
    )
    return index, settings


async def test_the_risk_breakdown_is_one_click_away_in_the_cards_thread(
    dns_server: DnsServer, tmp_path: Path
) -> None:
    index, settings = await listed_qpdar(dns_server, tmp_path, "Locky <!channel>")
    async with Service(settings, index=index) as service, SlackHarness(service) as slack:
        await slack.command("qpdar[.]pw")
        await slack.settle()
        (card,) = slack.bot_messages()
        (risk,) = [b for b in card.blocks if b.get("block_id") == "0.risk"]
        line = risk["text"]["text"]
        assert line == "*Risk 100/100 · malicious* · listed by URLhaus (Locky &lt;!channel&gt;)"
        press = button(card, "pivot:risk")
        assert press["text"]["text"] == "Risk breakdown"
        await slack.click(card, press)
        await slack.click(card, press)  # a double click answers once
        await slack.settle()
        (breakdown,) = slack.replies_to(card)
        text = json.dumps(breakdown.blocks, ensure_ascii=False)
        assert "Risk breakdown: qpdar[.]pw" in text
        assert "*+100 listed* · listed by URLhaus (Locky &lt;!channel&gt;)" in text
        assert "_urlhaus, as of 2016-02-09_" in text
        assert "<!channel>" not in everything_posted(slack.fake)
        assert buttons(breakdown) == []


async def test_the_breakdown_says_what_the_card_said_though_the_index_changed_since(
    dns_server: DnsServer, tmp_path: Path
) -> None:
    """The breakdown button keeps the card's risk: the feed dropping the domain between the
    card and the click changes what a new enrichment would say, not what the card said."""
    index, settings = await listed_qpdar(dns_server, tmp_path, "Locky")
    async with Service(settings, index=index) as service, SlackHarness(service) as slack:
        await slack.command("qpdar[.]pw")
        await slack.settle()
        (card,) = slack.bot_messages()
        await index.replace_listings("urlhaus", [])
        qpdar = parse_indicator("qpdar.pw")
        assert qpdar is not None
        fresh = await service.enrich(qpdar)
        assert fresh.risk.score != 100  # what enriching anew would say now
        await slack.click(card, button(card, "pivot:risk"))
        await slack.settle()
        (breakdown,) = slack.replies_to(card)
    text = json.dumps(breakdown.blocks, ensure_ascii=False)
    assert "Risk 100/100 · malicious" in text
    assert "*+100 listed* · listed by URLhaus (Locky)" in text


async def test_a_card_with_nothing_against_it_has_no_breakdown_button(slack: SlackHarness) -> None:
    await slack.command("qpdar[.]pw")  # dns and asn only: nothing raises the score
    await slack.settle()
    (card,) = slack.bot_messages()
    assert "Risk 5/100 · low" in json.dumps(card.blocks, ensure_ascii=False)
    assert not [b for b in buttons(card) if b["action_id"] == "pivot:risk"]
