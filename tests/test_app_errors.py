"""Bugs go to the one error handler; secrets never reach logs, stderr or Slack."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import SlackSettings
from enrichment.model import Indicator, Report
from enrichment.service import Service
from enrichment.settings import Settings
from tests.servers.dns_server import DnsServer
from tests.slack_helpers import (
    BOT_TOKEN,
    CHANNEL,
    SECRET,
    FakeService,
    SlackHarness,
    button,
    everything_posted,
)


class BrokenService(FakeService):
    async def enrich(self, indicator: Indicator) -> Report:
        raise RuntimeError("a bug in enrichment")


@pytest.fixture
def stderr_logging() -> Iterator[None]:
    """Log records to (captured) stderr as the real process would, at INFO."""
    handler = logging.StreamHandler(sys.stderr)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield
    root.removeHandler(handler)
    root.setLevel(old_level)


async def test_a_bug_is_logged_with_context_and_the_user_told(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = BrokenService()
    async with SlackHarness(service) as slack:
        response = await slack.command("qpdar[.]pw")
        await slack.settle()
    assert response.status_code == 200
    (record,) = [r for r in caplog.records if r.name == "bot.errors"]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    message = record.getMessage()
    assert "command='/pivot'" in message and f"channel='{CHANNEL}'" in message
    assert "qpdar" not in message  # ids only, never the user's text
    (sorry,) = [c for c in slack.fake.calls_to("response_url") if "wrong" in c.body["text"]]
    assert sorry.body["response_type"] == "ephemeral"


async def test_a_bug_in_a_button_reaches_the_same_handler(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = FakeService()
    async with SlackHarness(service) as slack:
        _, first = await slack.message("seen qpdar[.]pw")
        await slack.settle()
        (summary,) = slack.replies_to(first)
        service.enrich = BrokenService.enrich.__get__(service)  # type: ignore[method-assign]
        await slack.click(summary, button(summary, "pivot:card"))
        await slack.settle()
    (record,) = [r for r in caplog.records if r.name == "bot.errors"]
    assert "block_actions" in record.getMessage()
    assert any("wrong" in c.body["text"] for c in slack.fake.calls_to("response_url"))


async def test_secrets_never_appear_in_logs_stderr_or_posts(
    dns_server: DnsServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    stderr_logging: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings(
        data_dir=tmp_path / "data",
        sources=("dns",),
        dns_servers=(dns_server.address,),
        deadline=2.0,
    )
    async with Service(settings) as service, SlackHarness(service, SlackSettings()) as slack:
        await slack.command("qpdar[.]pw")
        await slack.command("qpdar[.]pw", secret="wrong-secret")  # logged by Bolt as invalid
        await slack.message("seen qpdar[.]pw and 8.8.8.8")
        slack.fake.fail_once("chat.postMessage", status=500)
        await slack.message("and 212.61.180[.]100")
        await slack.settle()
        sent = everything_posted(slack.fake)
        headers = [c.headers.get("authorization", "") for c in slack.fake.calls]
    assert any(BOT_TOKEN in h for h in headers)  # the canary really was used
    out, err = capsys.readouterr()
    for canary in (BOT_TOKEN, SECRET):
        assert canary not in caplog.text
        assert canary not in err and canary not in out
        assert canary not in sent
    assert caplog.records  # something was logged, so the check above could have failed
