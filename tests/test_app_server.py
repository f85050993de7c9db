"""`python -m bot serve` (and bare `python -m bot` with credentials) as a deployment runs it."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot import payloads, server
from bot.fake_slack import FakeSlack
from tests.servers.dns_server import QPDAR_IP, DnsServer, dns_server_fixture  # noqa: F401
from tests.slack_helpers import SECRET

REPO = Path(__file__).resolve().parents[1]
SERVING = re.compile(r"serving Slack over HTTP on [\d.]+:(\d+)/slack/events")


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


@pytest.mark.parametrize("args", [["serve"], []])
def test_serves_http_until_sigterm(
    args: list[str], fake: FakeSlack, dns_server: DnsServer, tmp_path: Path
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
    assert server.main([]) == 2
    err = capsys.readouterr().err
    assert problem in err
    assert "xoxb-test" not in err
