"""Slack-side settings, button context in the cache, background work, deployment files."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.buttons import ButtonStore, Place, action_name
from bot.deps import Tasks
from bot.settings import SLACK_API_URL, AutoMode, SlackSettings
from bot.state import NAMESPACE, open_state
from enrichment.errors import ConfigError
from enrichment.model import Indicator, Kind, Reason, Risk
from enrichment.stores import MemoryStore

REPO = Path(__file__).resolve().parents[1]
QPDAR = Indicator(Kind.DOMAIN, "qpdar.pw", "qpdar[.]pw")
QPDAR_IP = Indicator(Kind.IPV4, "212.61.180.100", "212.61.180[.]100")
PLACE = Place("T1", "C1")


def test_settings_from_env() -> None:
    settings = SlackSettings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "PORT": "8080",
            "PIVOT_SLACK_API_URL": "http://127.0.0.1:9/api",
            "PIVOT_AUTO": "React",
            "PIVOT_AUTO_MIN_SCORE": "50",
            "PIVOT_AUTO_CHANNELS": "C1, C2,",
        }
    )
    assert settings.can_serve and not settings.socket_mode
    assert settings.port == 8080
    assert settings.api_url == "http://127.0.0.1:9/api/"
    assert settings.auto is AutoMode.REACT
    assert settings.auto_min_score == 50
    assert settings.auto_channels == ("C1", "C2")
    assert "xoxb-1" not in repr(settings)


def test_settings_defaults_and_modes() -> None:
    empty = SlackSettings.from_env({})
    assert (empty.api_url, empty.auto, empty.can_serve) == (SLACK_API_URL, AutoMode.REPLY, False)
    socket = SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert socket.can_serve and socket.socket_mode
    with pytest.raises(ConfigError, match="PIVOT_AUTO"):
        SlackSettings.from_env({"PIVOT_AUTO": "sometimes"})


@pytest.mark.parametrize(
    ("action", "name"),
    [("pivot:resolve", "resolve"), ("pivot:resolve:3", "resolve"), ("card", "card"), ("x:12", "x")],
)
def test_action_name(action: str, name: str) -> None:
    assert action_name(action) == name


async def test_button_context_round_trips_through_the_state_store(tmp_path: Path) -> None:
    state = open_state(tmp_path)
    store = ButtonStore(state)
    keys = store.maker(PLACE, QPDAR, known=[QPDAR_IP])
    pivot_key = keys("resolve", "qpdar.pw", 2)
    open_key = keys("card", "212.61.180.100", 1)
    unknown_key = keys("card", "elsewhere.example", 1)
    assert await store.load(pivot_key) is None  # nothing is stored until the card is saved
    await keys.save()
    assert len({pivot_key, open_key, unknown_key}) == 3
    assert all(re.fullmatch(r"[\w-]{12}\.\d", k) for k in (pivot_key, open_key))
    pivot = await store.load(pivot_key)
    assert pivot is not None
    assert (pivot.action, pivot.target, pivot.page, pivot.place) == (
        "resolve",
        "qpdar.pw",
        2,
        PLACE,
    )
    assert pivot.subject == QPDAR and pivot.target_indicator == QPDAR
    opened = await store.load(open_key)
    assert opened is not None and opened.target_indicator == QPDAR_IP
    unknown = await store.load(unknown_key)
    assert unknown is not None and unknown.target_indicator is None
    assert await store.load("nope") is None and await store.load("x" * 500) is None
    await state.aclose()


RISK = Risk(
    92,
    (
        Reason("proximity", 92, "shares IP 212.61.180[.]100", "index", "2026-12-01"),
        Reason("age", 45, "registered 12 days ago"),
    ),
)


async def test_the_breakdown_button_keeps_its_cards_risk(tmp_path: Path) -> None:
    state = open_state(tmp_path)
    store = ButtonStore(state)
    keys = store.maker(PLACE, QPDAR)
    risk_key, plain_key = keys("risk", "qpdar.pw", 1, RISK), keys("card", "qpdar.pw", 1)
    await keys.save()
    risk, plain = await store.load(risk_key), await store.load(plain_key)
    assert risk is not None and risk.risk == RISK
    assert plain is not None and plain.risk is None
    await state.aclose()


@pytest.mark.parametrize(
    "junk",
    [
        None,
        [],
        {"score": 92},
        {"score": "92", "reasons": []},
        {"score": 101, "reasons": []},
        {"score": True, "reasons": []},
        {"score": 92, "reasons": ["listed"]},
        {"score": 92, "reasons": [{"code": "age", "points": "45", "detail": "new"}]},
        {"score": 92, "reasons": [{"code": "age", "points": 45}]},
        {"score": 92, "reasons": [{"code": "age", "points": 45, "detail": "new", "fresh": 1}]},
    ],
)
async def test_a_stored_risk_that_is_not_ours_makes_the_button_gone(junk: object) -> None:
    state = MemoryStore()
    button = {"action": "risk", "target": "qpdar.pw", "page": 1, "subject": None}
    button |= {"target_indicator": None, "risk": junk}
    await state.set(f"{NAMESPACE}card:junk", {"team": "T", "channel": "C", "buttons": [button]}, 60)
    assert await ButtonStore(state).load("junk.0") is None
    button["risk"] = RISK.to_json()
    await state.set(f"{NAMESPACE}card:junk", {"team": "T", "channel": "C", "buttons": [button]}, 60)
    loaded = await ButtonStore(state).load("junk.0")
    assert loaded is not None and loaded.risk == RISK  # the same record, well formed, loads


async def test_summary_buttons_take_their_subject_from_the_line() -> None:
    store = ButtonStore(MemoryStore())
    keys = store.maker(PLACE, None, known=[QPDAR, QPDAR_IP])
    key = keys("card", "212.61.180.100", 1)
    await keys.save()
    button = await store.load(key)
    assert button is not None and button.subject == QPDAR_IP


async def test_expired_or_foreign_button_records_are_gone() -> None:
    state = MemoryStore()
    store = ButtonStore(state, ttl=-1)
    keys = store.maker(PLACE, QPDAR)
    key = keys("resolve", "qpdar.pw", 1)
    await keys.save()
    assert await store.load(key) is None
    good = {"action": "card", "target": "qpdar.pw", "page": 1}
    good |= {"subject": None, "target_indicator": None}
    for junk in (
        None,
        "text",
        {"team": "T1", "channel": "C1"},
        {"team": "T1", "channel": "C1", "buttons": [{"action": "card"}]},
        {"team": "T1", "channel": "C1", "buttons": [{**good, "subject": ["nope"]}]},
    ):
        await state.set(f"{NAMESPACE}card:junk", junk, 60)
        assert await store.load("junk.0") is None, junk
    await state.set(f"{NAMESPACE}card:junk", {"team": "T", "channel": "C", "buttons": [good]}, 60)
    assert await store.load("junk.0") is not None  # the same shape, well formed, does load
    assert await store.load("junk.1") is None and await store.load("junk") is None


async def test_tasks_hand_failures_to_the_hook_and_wait_for_follow_ups() -> None:
    tasks = Tasks()
    seen: list[Exception] = []
    done: list[str] = []

    async def hook(exc: Exception) -> None:
        seen.append(exc)

    async def fails() -> None:
        raise RuntimeError("bug")

    async def chains() -> None:
        await asyncio.sleep(0)
        tasks.spawn(finishes(), hook)

    async def finishes() -> None:
        done.append("follow-up")

    tasks.spawn(fails(), hook)
    tasks.spawn(chains(), hook)
    await tasks.drain()
    assert [str(e) for e in seen] == ["bug"]
    assert done == ["follow-up"]
    assert len(tasks) == 0


async def test_tasks_wait_with_timeout_never_cancels() -> None:
    tasks = Tasks()
    gate = asyncio.Event()

    async def held() -> None:
        await gate.wait()

    async def hook(exc: Exception) -> None:
        raise AssertionError(exc)

    task = tasks.spawn(held(), hook)
    assert await tasks.wait(0.01) is False
    assert not task.cancelled()
    gate.set()
    assert await tasks.wait() is True


def test_manifest_declares_what_the_bot_listens_to() -> None:
    yaml = pytest.importorskip("yaml")
    manifest = yaml.safe_load((REPO / "slack-manifest.yml").read_text())
    features, settings = manifest["features"], manifest["settings"]
    assert [c["command"] for c in features["slash_commands"]] == ["/pivot"]
    assert features["shortcuts"][0]["callback_id"] == "pivot_message"
    assert features["shortcuts"][0]["type"] == "message"
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "channels:history",
        "groups:history",
        "im:history",
        "reactions:write",
        "files:write",
    }
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "message.channels",
        "message.groups",
        "message.im",
    }
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True


def test_env_example_names_every_variable_the_code_reads() -> None:
    example = (REPO / ".env.example").read_text()
    names = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    read = set()
    for path in [*REPO.glob("bot/settings.py"), *REPO.glob("enrichment/settings.py")]:
        pattern = r'"((?:SLACK|PIVOT|DOMAINTOOLS|MNEMONIC|PORT)[A-Z0-9_]*)"'
        read |= set(re.findall(pattern, path.read_text()))
    read = {name for name in read if not name.endswith("_")}  # prefixes, not names
    assert read <= names, read - names
    procfile = (REPO / "Procfile").read_text()
    assert re.search(r"^web: .*python -m bot serve", procfile, flags=re.MULTILINE)
    assert re.search(r"^worker: .*python -m bot serve", procfile, flags=re.MULTILINE)
