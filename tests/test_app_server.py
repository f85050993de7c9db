"""`python -m bot serve` (and bare `python -m bot` with credentials) as a deployment runs it."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
from aiohttp import WSMsgType, web

from bot import cli, server
from bot.app import Identity, build_app, make_client
from bot.console import payloads
from bot.settings import SlackSettings
from enrichment.stores import MemoryStore
from tests.servers.dns_server import QPDAR_IP, DnsServer
from tests.servers.slack_api import RecordingSlack
from tests.slack_helpers import SECRET, FakeService

REPO = Path(__file__).resolve().parents[1]
SERVING = re.compile(r"serving Slack over HTTP on [\d.]+:(\d+)/slack/events")


@pytest.fixture
def fake() -> Iterator[RecordingSlack]:
    with RecordingSlack() as running:
        yield running


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


@pytest.mark.parametrize("args", [["serve"], []])
def test_serves_http_until_sigterm(
    args: list[str], fake: RecordingSlack, dns_server: DnsServer, tmp_path: Path
) -> None:
    host, port = dns_server.address
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PIVOT_"))}
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "PORT": "0",
        "PIVOT_SLACK_API_URL": fake.api_url,
        "PIVOT_DATA_DIR": str(tmp_path),
        "PIVOT_SOURCES": "dns",
        "PIVOT_DNS_SERVERS": f"{host}:{port}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(proc.stderr, lines), daemon=True)
    reader.start()
    try:
        match = None
        while match is None:
            match = SERVING.search(lines.get(timeout=30))
        url = f"http://127.0.0.1:{match.group(1)}"
        assert httpx.get(f"{url}/healthz").text == "ok"
        body = payloads.slash_command(
            "qpdar[.]pw", channel="C1", user="U1", response_url=fake.response_url("C1", "U1")
        )
        headers = payloads.signed_headers(SECRET, body, payloads.FORM)
        assert httpx.post(f"{url}{server.PATH}", content=body, headers=headers).status_code == 200
        assert fake.wait(lambda: bool(fake.calls_to("chat.update")), timeout=20)
        (card,) = fake.by_bot()
        assert QPDAR_IP in str(card.blocks).replace("[.]", ".")
    finally:
        proc.send_signal(signal.SIGTERM)
        returncode = proc.wait(timeout=30)
        reader.join(timeout=5)
        if proc.stderr:
            proc.stderr.close()
    assert returncode == 0


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-test"}, "SLACK_SIGNING_SECRET"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "x", "PIVOT_AUTO": "loud"},
            "PIVOT_AUTO",
        ),
    ],
)
def test_serve_refuses_to_start_without_what_it_needs(
    env: dict[str, str],
    problem: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "PIVOT_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert problem in err
    assert "xoxb-test" not in err


class SocketModeSlack:
    """Slack's side of Socket Mode on loopback: says hello, sends envelopes, records acks."""

    def __init__(self, envelopes: list[dict[str, object]]) -> None:
        self.envelopes = envelopes
        self.acks: list[dict[str, object]] = []
        self.all_acked = asyncio.Event()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {}})
        for envelope in self.envelopes:
            await ws.send_json(envelope)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
                if len(self.acks) == len(self.envelopes):
                    self.all_acked.set()
        return ws


async def test_socket_mode_acks_envelopes_and_answers(fake: RecordingSlack, tmp_path: Path) -> None:
    command = payloads.slash_command(
        "qpdar[.]pw", channel="C1", user="U1", response_url=fake.response_url("C1", "U1")
    )
    posted = fake.user_message("C1", "seen qpdar[.]pw")
    event = json.loads(
        payloads.message_event(
            {"channel": "C1", "user": "U1", "text": posted.text, "ts": posted.ts}
        )
    )
    slack_side = SocketModeSlack(
        [
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": dict(parse_qsl(command)),
            },
            {"envelope_id": "env-2", "type": "events_api", "payload": event, "retry_attempt": 0},
        ]
    )
    app = web.Application()
    app.router.add_get("/link", slack_side.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.socket_url = f"ws://127.0.0.1:{runner.addresses[0][1]}/link"
    service = FakeService()
    settings = SlackSettings(bot_token="xoxb-test", app_token="xapp-test", api_url=fake.api_url)
    state = MemoryStore()
    bot = build_app(
        settings, client=make_client(settings), service=service, state=state, identity=Identity()
    )
    stop = asyncio.Event()
    serving = asyncio.create_task(server.serve_socket_mode(bot, "xapp-test", stop))
    try:
        await asyncio.wait_for(slack_side.all_acked.wait(), timeout=10)
        await bot.drain()
    finally:
        stop.set()
        await serving
        await bot.aclose()
        await runner.cleanup()
    assert sorted(str(a["envelope_id"]) for a in slack_side.acks) == ["env-1", "env-2"]
    (opened,) = fake.calls_to("apps.connections.open")
    assert opened.headers["authorization"] == "Bearer xapp-test"
    assert len(fake.calls_to("chat.update")) == 1  # the command's card
    replies = [c for c in fake.calls_to("chat.postMessage") if c.body.get("thread_ts")]
    assert [r.body["thread_ts"] for r in replies] == [posted.ts]
