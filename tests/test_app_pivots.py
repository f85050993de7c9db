"""Reverse pivots in Slack: the count on the card's button, pages in the thread, the whole set
exported as CSV and STIX into the thread, and the team's memory on the next card; signed
HTTP into the app, the real Service and pivot index, the recording fake of the Web API."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.console.fake_slack import Posted
from bot.render.blockkit import validate
from bot.render.memory import listed_line, memory_line
from enrichment.index.model import Observation, Relation
from enrichment.service import Service
from enrichment.settings import Settings
from tests.servers.dns_server import QPDAR, QPDAR_IP, DnsServer
from tests.servers.domaintools_server import DomainToolsApi
from tests.servers.http_server import HttpServer
from tests.slack_helpers import CHANNEL, SlackHarness, button, buttons
from tests.test_app_console import run_shell
from tests.test_app_flows import plain
from tests.test_locky_story import button as button_number

NEIGHBOURS = [f"host{n:02d}-update.pw" for n in range(30)]


@pytest.fixture
async def service(dns_server: DnsServer, tmp_path: Path) -> AsyncIterator[Service]:
    settings = Settings(
        data_dir=tmp_path / "data",
        sources=("dns", "index"),
        dns_servers=(dns_server.address,),
        deadline=3.0,
    )
    async with Service(settings) as svc:
        assert svc.index is not None
        now = time.time()
        await svc.index.record(
            [
                Observation(d, "domain", Relation.A, QPDAR_IP, "ipv4", "pdns", now - n, now - n)
                for n, d in enumerate(NEIGHBOURS)
            ]
        )
        yield svc


@pytest.fixture
async def slack(service: Service) -> AsyncIterator[SlackHarness]:
    async with SlackHarness(service) as harness:
        yield harness


def button_text(posted: Posted, action_prefix: str) -> str:
    return str(button(posted, action_prefix)["text"]["text"])


def element(posted: Posted, action_id: str) -> dict[str, Any]:
    """A button as the message carries it (with its confirm dialog, if any)."""
    for block in posted.blocks:
        for item in block.get("elements") or []:
            if item.get("action_id") == action_id:
                return dict(item)
    raise AssertionError(f"no {action_id} in the message")


def by_text(posted: Posted, text: str) -> dict[str, object]:
    (found,) = [b for b in buttons(posted) if b["text"]["text"] == text]
    return found


async def co_hosted_page(slack: SlackHarness) -> tuple[Posted, Posted]:
    """The card for qpdar.pw, and the first page of its Co-hosted pivot in the thread."""
    await slack.command("qpdar[.]pw")
    await slack.settle()
    (card,) = slack.bot_messages()
    await slack.click(card, button(card, "pivot:reverse_ip"))
    await slack.settle()
    (first,) = slack.replies_to(card)
    return card, first


async def test_a_reverse_pivot_counts_first_then_pages_in_the_thread(slack: SlackHarness) -> None:
    card, first = await co_hosted_page(slack)
    assert button_text(card, "pivot:reverse_ip") == f"Co-hosted ({len(NEIGHBOURS)})"
    assert f"showing 1-25 of {len(NEIGHBOURS)}" in plain(first)
    assert "host00-update[.]pw" in json.dumps(first.blocks)  # newest first, defanged
    assert "host29-update" not in plain(first)
    await slack.click(first, button(first, "pivot:page_next"))
    await slack.settle()
    second = slack.replies_to(card)[-1]
    assert f"showing 26-{len(NEIGHBOURS)} of {len(NEIGHBOURS)}" in plain(second)
    assert "host29-update" in plain(second)
    assert "pivot:page_next" not in [b["action_id"] for b in buttons(second)]


async def test_a_pages_exports_upload_the_whole_set_into_the_thread(slack: SlackHarness) -> None:
    card, first = await co_hosted_page(slack)
    await slack.click(first, by_text(first, "Export CSV"))
    await slack.click(first, by_text(first, "STIX 2.1"))
    await slack.settle()
    _, _, uploads = slack.fake.snapshot()
    table, bundle = sorted(uploads, key=lambda u: u.filename)
    assert {(u.channel, u.thread_ts) for u in uploads} == {(CHANNEL, card.ts)}
    rows = list(csv.DictReader(io.StringIO(table.content.decode())))
    assert len(rows) == len(NEIGHBOURS), "the whole set, not the page"
    assert {r["indicator"] for r in rows} == {d.replace(".", "[.]") for d in NEIGHBOURS}
    assert ".pw" not in table.content.decode(), "every value in the CSV is defanged"
    stix = json.loads(bundle.content)
    patterns = [o["pattern"] for o in stix["objects"] if o["type"] == "indicator"]
    assert sorted(patterns) == sorted(f"[domain-name:value = '{d}']" for d in NEIGHBOURS)


async def test_the_card_itself_exports_as_stix(slack: SlackHarness) -> None:
    await slack.command("qpdar[.]pw")
    await slack.settle()
    (card,) = slack.bot_messages()
    await slack.click(card, button(card, "pivot:export"))
    await slack.settle()
    _, _, (upload,) = slack.fake.snapshot()
    assert upload.thread_ts == card.ts and upload.filename.endswith(".stix.json")
    objects = json.loads(upload.content)["objects"]
    assert [o["pattern"] for o in objects if o["type"] == "indicator"] == [
        f"[domain-name:value = '{QPDAR}']"
    ]


async def test_the_next_card_remembers_where_the_team_saw_it(slack: SlackHarness) -> None:
    await slack.message("seen beaconing to qpdar[.]pw from the mail gateway", channel="C2")
    await slack.settle()
    await slack.command("qpdar[.]pw")  # in #soc, by analyst (the payload's names)
    await slack.settle()
    await slack.command("qpdar[.]pw")
    await slack.settle()
    latest = slack.bot_messages()[-1]
    said = plain(latest)
    assert "Seen in Slack 2 times, last in #soc by @analyst just now" in said
    assert "<@" not in said, "a sighting never notifies the person who made it"


def test_the_memory_line_escapes_names_and_never_mentions_anyone() -> None:
    at = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="minutes")
    hostile = {
        "sightings": {
            "count": 3,
            "recent": [{"channel": "<!channel> #x", "user": "<@U0ADMIN>", "at": at}],
        }
    }
    line = str(memory_line(hostile))
    assert line.startswith("Seen in Slack 3 times, last in")
    assert "2 days ago" in line
    assert "<!channel>" not in line and "<@U0ADMIN>" not in line
    by_id = {"sightings": {"count": 1, "recent": [{"channel": "C0123ABC", "user": "U0ADMIN"}]}}
    line = str(memory_line(by_id))
    assert line == "Seen in Slack 1 time, last in <#C0123ABC>", line


async def test_a_big_domaintools_pivot_asks_before_spending_quota(
    dns_server: DnsServer, http_server: HttpServer, tmp_path: Path
) -> None:
    api = DomainToolsApi()
    api.install(http_server)
    settings = Settings(
        data_dir=tmp_path / "data",
        sources=("dns", "domaintools"),
        dns_servers=(dns_server.address,),
        source_urls={"domaintools": api.url(http_server)},
        domaintools_username=api.username,
        domaintools_api_key=api.key,
        deadline=3.0,
    )
    async with Service(settings) as service, SlackHarness(service) as slack:
        await slack.command("qpdar[.]pw")
        await slack.settle()
        (card,) = slack.bot_messages()
        assert validate(card.blocks, card.text) == [], "Slack would take the confirm dialog"
        theirs = button(card, "pivot:reverse_whois_email")
        # DomainTools counts 8,031 domains of the registrant's, qpdar.pw among them
        assert theirs["text"]["text"] == "Registrant's domains (8,030)"
        asks = element(card, "pivot:reverse_whois_email")["confirm"]
        assert "DomainTools for 8,030 results" in asks["text"]["text"]
        assert {asks["confirm"]["text"], asks["deny"]["text"]} == {"Run it", "Cancel"}
        assert "confirm" not in element(card, "pivot:resolve"), "only quota-spending pivots ask"
        before = len(api.seen)
        await slack.click(card, theirs)  # Slack sends the click only after "Run it"
        await slack.settle()
        assert len(api.seen) > before
        (page,) = slack.replies_to(card)
        assert "showing 1-25 of 8,030" in plain(page)


def test_the_console_asks_as_slack_would_before_a_costly_pivot(
    dns_server: DnsServer, http_server: HttpServer, tmp_path: Path
) -> None:
    api = DomainToolsApi()
    api.install(http_server)
    host, port = dns_server.address
    env = {
        "PIVOT_DATA_DIR": str(tmp_path / "data"),
        "PIVOT_SOURCES": "dns,domaintools",
        "PIVOT_DNS_SERVERS": f"{host}:{port}",
        "PIVOT_DOMAINTOOLS_URL": api.url(http_server),
        "DOMAINTOOLS_USERNAME": api.username,
        "DOMAINTOOLS_API_KEY": api.key,
    }
    card = run_shell("/pivot qpdar[.]pw\nquit\n", env).stdout
    number, count = button_number(card, "Registrant's domains")
    assert count == 8030 and "(8,030) (asks first)" in " ".join(card.split())
    once = run_shell(f"/pivot qpdar[.]pw\n{number}\nquit\n", env).stdout
    assert f"Press {number} again to go ahead." in once
    assert "of 8,030" not in once, "nothing was asked of DomainTools yet"
    twice = run_shell(f"/pivot qpdar[.]pw\n{number}\n{number}\nquit\n", env).stdout
    assert "showing 1-25 of 8,030" in twice


def test_urls_a_feed_lists_on_a_host_show_defanged_under_the_listing() -> None:
    facts = {
        "listed_by": [{"feed": "threatfox", "value": QPDAR, "threat": "Locky"}],
        "listed_urls": [
            {"feed": "urlhaus", "value": f"http://{QPDAR}/main.php"},
            {"feed": "urlhaus", "value": f"http://{QPDAR}/<!channel>"},
            {"feed": "openphish", "value": f"https://{QPDAR}/login"},
        ],
    }
    listed, served = str(listed_line(facts)).split("\n")
    assert listed.startswith(":rotating_light: *Listed by* ThreatFox (Locky")
    assert served.startswith(":warning: *Serves URLs listed by* OpenPhish, URLhaus: ")
    assert "hxxp://qpdar[.]pw/main[.]php" in served and served.endswith("and 1 more")
    assert "http://" not in served and "<!channel>" not in served
