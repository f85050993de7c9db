"""Slack mechanics through the HTTP server: signatures, dedupe, what is ignored, retries.

These use FakeService (the enrichment answer does not matter here); the flows with the real
Service against loopback servers are in test_app_flows.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import Identity
from bot.console import payloads
from bot.deps import MAX_DEFER, QUIET, Tasks
from bot.settings import AutoMode, SlackSettings
from tests.slack_helpers import CHANNEL, USER, FakeService, SlackHarness, button, buttons


@pytest.fixture
def service() -> FakeService:
    return FakeService()


@pytest.fixture
async def slack(service: FakeService) -> AsyncIterator[SlackHarness]:
    async with SlackHarness(service) as harness:
        yield harness


async def test_bad_signature_is_rejected_and_nothing_runs(
    slack: SlackHarness, service: FakeService
) -> None:
    response = await slack.command("qpdar[.]pw", secret="not-the-secret")
    await slack.settle()
    assert response.status_code == 401
    assert slack.fake.calls == []
    assert service.enriched == []


async def test_stale_timestamp_is_rejected(slack: SlackHarness) -> None:
    response = await slack.command("qpdar[.]pw", timestamp=int(time.time()) - 600)
    await slack.settle()
    assert response.status_code == 401
    assert slack.fake.calls == []


async def test_url_verification_is_answered(slack: SlackHarness) -> None:
    body = '{"type": "url_verification", "token": "x", "challenge": "c-123"}'
    response = await slack.send(body, "application/json")
    assert response.status_code == 200
    assert response.json() == {"challenge": "c-123"}


async def test_retried_delivery_gets_no_second_reply(
    slack: SlackHarness, service: FakeService
) -> None:
    _, first = await slack.message("seen qpdar[.]pw", event_id="Ev1")
    await slack.settle()
    retry = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    event = {"channel": CHANNEL, "user": USER, "text": "seen qpdar[.]pw", "ts": first.ts}
    body = payloads.message_event(event, event_id="Ev1")
    response = await slack.send(body, payloads.JSON, headers=retry)
    await slack.settle()
    assert response.status_code == 200
    assert len(slack.replies_to(first)) == 1
    assert len(service.enriched) == 1


async def test_same_message_as_two_events_gets_one_reply(slack: SlackHarness) -> None:
    _, first = await slack.message("seen qpdar[.]pw", event_id="EvA")
    event = {"channel": CHANNEL, "user": USER, "text": "seen qpdar[.]pw", "ts": first.ts}
    await slack.event({**event, "type": "message"}, event_id="EvB")
    await slack.settle()
    assert len(slack.replies_to(first)) == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"bot_id": "B999"},  # another bot, no subtype
        {"subtype": "bot_message", "bot_id": "B999"},
        {"user": "UBOT", "bot_id": "BBOT"},  # ourselves
        {"subtype": "message_changed", "message": {"text": "qpdar[.]pw", "user": "U1"}},
        {"subtype": "message_deleted"},
        {"subtype": "channel_join"},
    ],
)
async def test_bots_edits_deletions_and_joins_are_ignored_quietly(
    slack: SlackHarness,
    service: FakeService,
    extra: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    response, _ = await slack.message("qpdar[.]pw is bad", **extra)
    await slack.settle()
    assert response.status_code == 200
    assert slack.fake.calls_to("chat.postMessage") == []
    assert service.enriched == []
    assert "nhandled request" not in caplog.text


async def test_thread_message_is_answered_in_its_thread(slack: SlackHarness) -> None:
    _, parent = await slack.message("a thread about it")
    await slack.message("see qpdar[.]pw", thread_ts=parent.ts)
    await slack.settle()
    (answer,) = slack.bot_messages()
    assert answer.thread_ts == parent.ts


async def test_rate_limited_post_is_retried(slack: SlackHarness) -> None:
    slack.fake.fail_once("chat.postMessage", status=429, retry_after=0)
    _, first = await slack.message("seen qpdar[.]pw")
    await slack.settle()
    assert len(slack.fake.calls_to("chat.postMessage")) == 2
    assert len(slack.replies_to(first)) == 1


async def test_double_click_gives_one_result(slack: SlackHarness, service: FakeService) -> None:
    _, first = await slack.message("seen qpdar[.]pw")
    await slack.settle()
    (summary,) = slack.replies_to(first)
    open_card = button(summary, "pivot:card")
    await slack.click(summary, open_card)
    await slack.click(summary, open_card)
    await slack.settle()
    (card,) = [m for m in slack.replies_to(first) if m is not summary]
    resolve = button(card, "pivot:resolve")
    await slack.click(card, resolve)
    await slack.click(card, resolve)
    await slack.settle()
    assert len(service.pivoted) == 1
    assert len(slack.replies_to(first)) == 3  # summary, card, one pivot result


async def test_expired_button_says_run_pivot_again(slack: SlackHarness) -> None:
    _, first = await slack.message("seen qpdar[.]pw")
    await slack.settle()
    (summary,) = slack.replies_to(first)
    stale = {**button(summary, "pivot:card"), "value": "no-such-key"}
    response = await slack.click(summary, stale)
    await slack.settle()
    assert response.status_code == 200
    (note,) = [m for m in slack.fake.by_bot() if m.ephemeral_to == USER]
    assert "/pivot again" in note.text


async def test_button_values_are_short_opaque_keys(slack: SlackHarness) -> None:
    await slack.message("seen qpdar[.]pw and 8.8.8.8")
    await slack.settle()
    values = [b["value"] for m in slack.fake.by_bot() for b in buttons(m)]
    assert values
    assert all(0 < len(v) <= 32 and "qpdar" not in v for v in values)


async def test_slash_command_outside_the_channel_answers_by_response_url(
    slack: SlackHarness,
) -> None:
    slack.fake.outside.add("CPRIVATE")
    response = await slack.command("qpdar[.]pw", channel="CPRIVATE")
    await slack.settle()
    assert response.status_code == 200
    answers = slack.fake.calls_to("response_url")
    assert len(answers) == 1
    assert answers[0].body["response_type"] == "in_channel"
    assert "qpdar[.]pw" in answers[0].body["text"]


async def test_slash_command_without_indicators_gets_ephemeral_usage(
    slack: SlackHarness, service: FakeService
) -> None:
    response = await slack.command("hello there")
    await slack.settle()
    assert response.status_code == 200
    (usage,) = slack.fake.calls_to("response_url")
    assert usage.body["response_type"] == "ephemeral"
    assert slack.fake.calls_to("chat.postMessage") == []
    assert service.enriched == []


async def test_slash_command_caps_cards_and_says_how_many_were_left_out(
    slack: SlackHarness,
) -> None:
    text = " ".join(f"10.0.0.{n}" for n in range(1, 14))
    await slack.command(text)
    await slack.settle()
    assert len(slack.fake.calls_to("chat.postMessage")) == 10
    assert len(slack.fake.calls_to("chat.update")) == 10
    notes = [c.body["text"] for c in slack.fake.calls_to("response_url")]
    assert any("3 more" in n for n in notes)


async def test_lazy_authorization_asks_auth_test_once(service: FakeService) -> None:
    async with SlackHarness(service, identity=None) as slack:
        await slack.message("seen qpdar[.]pw")
        await slack.message("and 8.8.8.8")
        await slack.settle()
        assert len(slack.fake.calls_to("auth.test")) == 1
        assert len(slack.fake.calls_to("chat.postMessage")) == 2


ALLOW = ("qpdar.pw",)


@pytest.mark.parametrize(
    ("settings", "allow", "channel", "text", "answered"),
    [
        (SlackSettings(auto=AutoMode.OFF), (), CHANNEL, "qpdar[.]pw", False),
        (SlackSettings(auto_channels=("COTHER",)), (), CHANNEL, "qpdar[.]pw", False),
        (SlackSettings(auto_channels=("COTHER",)), (), "COTHER", "qpdar[.]pw", True),
        (SlackSettings(), ALLOW, CHANNEL, "mail.qpdar[.]pw", False),
        (SlackSettings(), ALLOW, CHANNEL, "hxxp://www.qpdar[.]pw/x", False),
        (SlackSettings(), ALLOW, CHANNEL, "notqpdar[.]pw", True),
    ],
)
async def test_noise_controls(
    service: FakeService,
    settings: SlackSettings,
    allow: tuple[str, ...],
    channel: str,
    text: str,
    answered: bool,
) -> None:
    async with SlackHarness(service, settings, allowlist=allow) as slack:
        await slack.message(text, channel)
        await slack.settle()
        assert bool(slack.bot_messages(channel)) is answered


async def test_react_mode_reacts_instead_of_replying_when_nothing_scores(
    service: FakeService,
) -> None:
    async with SlackHarness(service, SlackSettings(auto=AutoMode.REACT)) as slack:
        _, first = await slack.message("seen qpdar[.]pw")
        await slack.settle()
        assert slack.bot_messages() == []
        assert slack.fake.reactions == [(CHANNEL, first.ts, "mag")]


async def test_shortcut_replies_in_thread_even_with_auto_off(service: FakeService) -> None:
    async with SlackHarness(service, SlackSettings(auto=AutoMode.OFF)) as slack:
        _, first = await slack.message("seen qpdar[.]pw")
        await slack.settle()
        assert slack.bot_messages() == []
        response = await slack.shortcut(first)
        await slack.settle()
        assert response.status_code == 200
        assert len(slack.replies_to(first)) == 1


async def test_shortcut_on_a_message_without_indicators_says_so(slack: SlackHarness) -> None:
    _, first = await slack.message("lunch at noon?")
    await slack.shortcut(first)
    await slack.settle()
    (usage,) = slack.fake.calls_to("response_url")
    assert usage.body["response_type"] == "ephemeral"
    assert slack.bot_messages() == []


def test_identity_defaults_match_the_fake() -> None:
    identity = Identity()
    assert (identity.team_id, identity.bot_user_id, identity.bot_id) == ("T1", "UBOT", "BBOT")


async def test_work_waits_for_a_pause_in_a_burst_but_never_starves() -> None:
    """Acks first: work started during a burst waits for the requests to stop coming, and
    under a burst that never stops it still runs once MAX_DEFER has passed.

    The burst runs on a clock the test moves (a request every QUIET/4), so a loaded machine
    that wakes the loop late cannot open a pause the burst never had."""
    now = [0.0]
    tasks = Tasks(clock=lambda: now[0])
    done: list[float] = []

    async def work() -> None:
        done.append(now[0])

    async def on_error(_exc: Exception) -> None:
        raise AssertionError("no error expected")

    tasks.arrived()
    tasks.spawn(work(), on_error)
    while not done and now[0] < MAX_DEFER * 50:
        now[0] += QUIET / 4
        tasks.arrived()  # requests keep coming
        await asyncio.sleep(0)
    assert done, "work under an endless burst still runs"
    assert done[0] >= MAX_DEFER, "and not before the burst had its turn"
    assert await tasks.wait(1.0)
