"""Hostile requests over real HTTP against the served app, with a loopback listener that
proves nothing went where a request said it should go."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.console import payloads
from bot.response_urls import ResponseUrls
from bot.settings import SlackSettings
from tests.servers.http_server import HttpServer
from tests.slack_helpers import CHANNEL, USER, FakeService, SlackHarness
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
