"""Hostile requests over real HTTP against the served app, with a loopback listener that
proves nothing went where a request said it should go."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from bot.app import make_client
from bot.console import payloads
from bot.listeners.actions import upload_page as upload
from bot.response_urls import ResponseUrls
from bot.settings import SlackSettings
from enrichment.model import Indicator, Kind, PivotPage
from tests.servers.http_server import HttpServer
from tests.servers.slack_api import RecordingSlack
from tests.slack_helpers import CHANNEL, SECRET, USER, FakeService, SlackHarness, button
from tests.test_app_errors import BrokenService


@pytest.fixture
def outside() -> Iterator[HttpServer]:
    """Somewhere a forged or tampered payload would like the bot to post to."""
    with HttpServer() as server:
        server.route("/", {"ok": True}, method="*", prefix=True)
        yield server


async def command(slack: SlackHarness, response_url: str, channel: str = CHANNEL) -> int:
    body = payloads.slash_command(
        "qpdar[.]pw", channel=channel, user=USER, response_url=response_url
    )
    response = await slack.send(body, payloads.FORM)
    await slack.settle()
    return response.status_code


async def test_a_response_url_outside_slack_is_never_posted_to(
    outside: HttpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with SlackHarness(FakeService()) as slack:
        slack.fake.outside.add("CNOTIN")  # the bot would fall back to the response URL
        assert await command(slack, outside.url + "/metadata", channel="CNOTIN") == 200
        assert await command(slack, outside.url + "/hook") == 200
        assert slack.bot_messages()  # the card in a channel the bot is in still went out
    assert outside.requests == []
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.response_urls"]
    assert warnings and all("127.0.0.1" in w and "metadata" not in w for w in warnings)


async def test_the_error_handler_posts_only_to_slack(outside: HttpServer) -> None:
    async with SlackHarness(BrokenService()) as slack:
        assert await command(slack, outside.url + "/hook") == 200
        assert await command(slack, "https://hooks.slack.com.evil.example/x") == 200
    assert outside.requests == []
    assert slack.fake.calls_to("response_url") == []


def test_which_response_urls_are_slacks() -> None:
    default = ResponseUrls(SlackSettings())
    assert default.allows("https://hooks.slack.com/commands/T1/1/abc")
    for url in (
        "http://hooks.slack.com/commands/T1/1/abc",
        "https://hooks.slack.com.evil.example/x",
        "https://evil.example/hooks.slack.com",
        "https://user@evil.example:443@hooks.slack.com/x",
        "https://169.254.169.254/latest/meta-data/",
        None,
        42,
    ):
        assert not default.allows(url), url
    faked = ResponseUrls(SlackSettings(api_url="http://127.0.0.1:8080/api/"))
    assert faked.allows("http://127.0.0.1:8080/response_url/C1/U1/1")
    assert not faked.allows("http://127.0.0.1:8081/response_url/C1/U1/1")
    assert faked.allows("https://hooks.slack.com/actions/T1/1/abc")


# -- forged and malformed requests --------------------------------------------------------------

CANARY = "BODY-CANARY-9f3e"


def forged_bodies(response_url: str) -> list[tuple[str, str]]:
    """A slash command and a button click, each naming where to post and carrying a canary."""
    slash = payloads.slash_command(
        f"qpdar[.]pw {CANARY}", channel=CHANNEL, user=USER, response_url=response_url
    )
    action = {"action_id": "pivot:card", "value": f"{CANARY}.0", "block_id": "b"}
    click = payloads.block_action(
        action, channel=CHANNEL, user=USER, response_url=response_url, message=None
    )
    return [(slash, payloads.FORM), (click, payloads.FORM)]


async def post_forged(
    slack: SlackHarness, body: str, kind: str, stamp: str | None, signature: str | None
) -> httpx.Response:
    forged = {"x-slack-request-timestamp": stamp, "x-slack-signature": signature}
    headers = {k: v for k, v in forged.items() if v is not None}
    return await slack.http.post(slack.url, content=body, headers={**headers, "content-type": kind})


@pytest.mark.parametrize("stamp", ["abc", "1.5", "", "1700000000x", "-1", None, "9" * 40])
@pytest.mark.parametrize("signature", [None, "", "v0=00", "v1=abc"])
async def test_an_unsigned_request_gets_401_and_nothing_else(
    outside: HttpServer, caplog: pytest.LogCaptureFixture, stamp: str | None, signature: str | None
) -> None:
    caplog.set_level(logging.DEBUG)
    async with SlackHarness(FakeService()) as slack:
        for body, kind in forged_bodies(outside.url + "/latest/meta-data"):
            response = await post_forged(slack, body, kind, stamp, signature)
            assert (response.status_code, response.content) == (401, b"")
        await slack.settle()
        assert slack.fake.calls == []  # no listener, no error handler, no Web API call
    assert outside.requests == []
    refusals = [r for r in caplog.records if r.name == "bot.intake"]
    assert len(refusals) == 2  # one line per request
    assert CANARY not in caplog.text and "meta-data" not in caplog.text


async def test_a_wrongly_signed_or_stale_request_gets_401(outside: HttpServer) -> None:
    async with SlackHarness(FakeService()) as slack:
        for body, kind in forged_bodies(outside.url + "/hook"):
            wrong = await slack.send(body, kind, secret="not-the-secret")
            stale = await slack.send(body, kind, timestamp=int(time.time()) - 3600)
            assert (wrong.status_code, stale.status_code) == (401, 401)
        await slack.settle()
        assert slack.fake.calls == []
    assert outside.requests == []


MALFORMED = [
    (b"null", payloads.JSON),
    (b"[]", payloads.JSON),
    (b'"text"', payloads.JSON),
    (b'{"type": 7}', payloads.JSON),
    (b"{not json", payloads.JSON),
    (b"payload=%5B1%5D", payloads.FORM),
    (b"payload=null", payloads.FORM),
    (b"nothing=here", payloads.FORM),
    (b"\xff\xfe\x00payload=\x80", payloads.FORM),
    (b'{"type": "event_callback", "x": "\xff"}', payloads.JSON),
]


@pytest.mark.parametrize(("body", "kind"), MALFORMED)
async def test_a_malformed_body_gets_400_when_signed_and_401_when_not(
    body: bytes, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with SlackHarness(FakeService()) as slack:
        headers = {**signed_bytes(body), "content-type": kind}
        signed = await slack.http.post(slack.url, content=body, headers=headers)
        unsigned = await slack.http.post(slack.url, content=body, headers={"content-type": kind})
        await slack.settle()
        assert slack.fake.calls == []
    assert (signed.status_code, unsigned.status_code) == (400, 401)
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in lines] == ["bot.intake", "bot.intake"]  # one line each, no trace
    assert all(r.exc_info is None for r in caplog.records)


def signed_bytes(body: bytes, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {"x-slack-request-timestamp": stamp, "x-slack-signature": "v0=" + digest.hexdigest()}


async def test_a_replayed_slash_command_is_acknowledged_and_not_acted_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with SlackHarness(FakeService()) as slack:
        body = payloads.slash_command(
            "qpdar[.]pw",
            channel=CHANNEL,
            user=USER,
            response_url=slack.fake.response_url(CHANNEL, USER),
        )
        headers = payloads.signed_headers(SECRET, body, payloads.FORM)
        first = await slack.http.post(slack.url, content=body, headers=headers)
        await slack.settle()
        again = await slack.http.post(slack.url, content=body, headers=headers)
        await slack.settle()
        assert (first.status_code, again.status_code) == (200, 200)
        assert len(slack.fake.calls_to("chat.postMessage")) == 1
        assert len(slack.bot_messages()) == 1
    assert any("replayed" in r.getMessage() for r in caplog.records)


async def test_a_body_over_one_mebibyte_is_refused_unread() -> None:
    async with SlackHarness(FakeService()) as slack:
        near = json.dumps({"type": "event_callback", "pad": "x" * (1024 * 1024 - 200)}).encode()
        over = near + b" " * 300  # still valid JSON, just larger than Slack ever sends
        fits = await slack.http.post(
            slack.url, content=near, headers={**signed_bytes(near), "content-type": payloads.JSON}
        )
        too_big = await slack.http.post(
            slack.url, content=over, headers={**signed_bytes(over), "content-type": payloads.JSON}
        )
        await slack.settle()
    assert fits.status_code == 200
    assert too_big.status_code == 413


async def test_request_bodies_never_reach_the_logs(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    async with SlackHarness(BrokenService()) as slack:
        await slack.command(f"qpdar[.]pw {CANARY}")  # a bug, logged with context
        await slack.command(f"qpdar[.]pw {CANARY}", secret="wrong")  # refused
        unhandled = {"type": "app_mention", "text": f"<@UBOT> {CANARY}", "channel": CHANNEL}
        await slack.event(unhandled)  # an event no listener takes
        await slack.send(f'{{"type": "nope", "c": "{CANARY}"}}', payloads.JSON)
        await slack.settle()
    out, err = capsys.readouterr()
    assert caplog.records  # things were logged, so the checks below could fail
    assert CANARY not in caplog.text and CANARY not in err and CANARY not in out


# -- buttons are bound to where they were made --------------------------------------------------


def click_from(
    slack: SlackHarness, elsewhere: str, action: dict[str, Any], message: dict[str, Any], ts: str
) -> str:
    """A click on `action`: from another channel, team or message, or from its own card."""
    channel = "C2" if elsewhere == "channel" else CHANNEL
    team = "T2" if elsewhere == "team" else "T1"
    message = {**message, "ts": ts} if elsewhere == "message" else message
    url = slack.fake.response_url(channel, USER)
    return payloads.block_action(
        action, channel=channel, user=USER, response_url=url, message=message, team=team
    )


@pytest.mark.parametrize("elsewhere", ["channel", "team", "message", "here"])
async def test_a_button_works_only_on_its_own_card(elsewhere: str) -> None:
    service = FakeService()
    async with SlackHarness(service) as slack:
        _, first = await slack.message("seen qpdar[.]pw")
        _, other = await slack.message("an unrelated message")
        await slack.settle()
        (summary,) = slack.replies_to(first)
        action = button(summary, "pivot:card")
        message = summary.as_clicked(slack.fake.user_id, slack.fake.bot_id)
        assert message is not None
        before = len(service.enriched)
        body = click_from(slack, elsewhere, action, message, other.ts)
        assert (await slack.send(body, payloads.FORM)).status_code == 200
        await slack.settle()
        answers = [c.body.get("text", "") for c in slack.fake.calls_to("response_url")]
    expired = any("expired" in a and "/pivot" in a for a in answers)
    if elsewhere == "here":
        assert (len(service.enriched), expired) == (before + 1, False)
    else:  # nothing was looked up for the stranger, who is told to run /pivot again
        assert (len(service.enriched), expired) == (before, True)


# -- uploads ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "defanged",
    [
        "../../etc/passwd",
        "hxxp://evil[.]example/a b\n<!channel>\x00.sh",
        "ünïcödé\u202e\u200bname" + "x" * 300,
        "C:\\Windows\\system32\\drivers\\etc\\hosts",
    ],
)
async def test_uploaded_file_names_are_plain(defanged: str) -> None:
    subject = Indicator(Kind.DOMAIN, "hostile.example", defanged)
    page = PivotPage("raw_whois", subject, (), None, text="% whois\nline\n" * 10)
    with RecordingSlack() as fake:
        client = make_client(replace(SlackSettings(), api_url=fake.api_url, bot_token="xoxb-t"))
        assert await upload(client, page, (CHANNEL, "1700000000.000100"))
        (sent,) = fake.uploads.values()
    assert re.fullmatch(r"raw_whois-[\w.\[\]-]{1,80}\.txt", sent.filename), sent.filename
    assert sent.filename.isascii() or all(c.isalnum() or c in "._-[]" for c in sent.filename)
    assert "/" not in sent.filename and "\\" not in sent.filename and ".." not in sent.filename
    assert "\n" not in sent.title and "<" not in sent.title
