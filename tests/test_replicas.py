"""Two `python -m bot serve` processes on one Redis and one PostgreSQL, each with a data
directory of its own (replicas on different hosts share no disk), behind no proxy: the test
sends each request to the replica it chooses, as a load balancer or Slack's retry would.

Real processes, the real Redis (PIVOT_TEST_REDIS_URL) and PostgreSQL
(PIVOT_TEST_DATABASE_URL), a loopback DNS server and the recording fake of Slack's Web API.
Skipped, with the reason, where either server does not answer.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from bot.console import payloads
from bot.console.fake_slack import Posted
from tests.index_backends import fresh_schema
from tests.servers.dns_server import QPDAR, QPDAR_IP, DnsServer
from tests.servers.redis_server import TcpProxy
from tests.servers.slack_api import RecordingSlack
from tests.slack_helpers import BOT_TOKEN, SECRET, buttons

REPO = Path(__file__).resolve().parents[1]
READY = re.compile(r"serving Slack over HTTP on [\d.]+:(\d+)")


@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def post(self, body: str, content_type: str, **headers: str) -> httpx.Response:
        signed = payloads.signed_headers(SECRET, body, content_type)
        return httpx.post(self.url, content=body, headers={**signed, **headers}, timeout=10)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_replica(env: dict[str, str], log: Path) -> Replica:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = READY.search(log.read_text(errors="replace"))
        if found:
            return Replica(process, f"http://127.0.0.1:{found.group(1)}/slack/events", log)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"replica did not start:\n{log.read_text(errors='replace')}")


def database_url(conninfo: str) -> str:
    """A postgresql:// URL for a conninfo string (PIVOT_DATABASE_URL takes URLs)."""
    parts = dict(re.findall(r"(\w+)=('[^']*'|\S+)", conninfo))
    options = quote(parts.get("options", "").strip("'"), safe="")
    user = parts.get("user", "postgres")
    host, port = parts.get("host", "127.0.0.1"), parts.get("port", "5432")
    return f"postgresql://{user}@{host}:{port}/{parts['dbname']}?options={options}"


@pytest.fixture
def slack() -> Iterator[RecordingSlack]:
    fake = RecordingSlack()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def replicas(
    tmp_path: Path,
    slack: RecordingSlack,
    dns_server: DnsServer,
    redis_proxy: TcpProxy,
    pg_database: str,
) -> Iterator[tuple[Replica, Replica]]:
    host, port = dns_server.address
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PIVOT_", "SLACK_"))}
    env = base | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "PIVOT_SLACK_API_URL": slack.api_url,
        "PIVOT_SOURCES": "dns,index",
        "PIVOT_DNS_SERVERS": f"{host}:{port}",
        "PIVOT_DEADLINE": "5",
        "PIVOT_REDIS_URL": redis_proxy.url,  # a Redis the test can take away
        "PIVOT_DATABASE_URL": database_url(fresh_schema(pg_database)),
    }
    started: list[Replica] = []
    try:
        for n in (1, 2):
            own = env | {"PIVOT_DATA_DIR": str(tmp_path / f"host{n}")}
            started.append(start_replica(own, tmp_path / f"replica{n}.log"))
        yield started[0], started[1]
    finally:
        for replica in started:
            replica.stop()


def wait_for(check: Callable[[], Any], seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def team() -> str:
    """A team of the test's own: the replicas' keys never meet another test's."""
    return f"T{secrets.token_hex(4).upper()}"


def command(replica: Replica, slack: RecordingSlack, text: str, team_id: str) -> Posted:
    url = slack.response_url("C1", "U1")
    body = payloads.slash_command(text, channel="C1", user="U1", response_url=url, team=team_id)
    assert replica.post(body, payloads.FORM).status_code == 200
    before = len(slack.by_bot())
    found: list[Posted] = wait_for(lambda: [m for m in slack.by_bot()[before:] if m.version >= 1])
    return found[-1]


def test_a_retry_to_the_other_replica_is_answered_once(
    replicas: tuple[Replica, Replica], slack: RecordingSlack
) -> None:
    one, two = replicas
    posted = slack.user_message("C1", "beacon to qpdar[.]pw", user="U1")
    event = {"channel": "C1", "user": "U1", "text": posted.text, "ts": posted.ts}
    body = payloads.message_event(event, team=team(), event_id=f"Ev{secrets.token_hex(5)}")
    assert one.post(body, payloads.JSON).status_code == 200
    assert two.post(body, payloads.JSON, **{"X-Slack-Retry-Num": "1"}).status_code == 200
    wait_for(lambda: [m for m in slack.by_bot() if m.thread_ts == posted.ts])
    time.sleep(1.0)  # room for a second answer, were one coming
    assert len([m for m in slack.by_bot() if m.thread_ts == posted.ts]) == 1


def test_a_button_made_on_one_replica_works_on_the_other(
    replicas: tuple[Replica, Replica], slack: RecordingSlack
) -> None:
    one, two = replicas
    team_id = team()
    card = command(one, slack, "qpdar[.]pw", team_id)
    resolve = next(b for b in buttons(card) if b["action_id"] == "pivot:resolve")
    clicked = card.as_clicked(slack.user_id, slack.bot_id)
    url = slack.response_url("C1", "U1")
    body = payloads.block_action(
        resolve, channel="C1", user="U1", response_url=url, message=clicked, team=team_id
    )
    assert two.post(body, payloads.FORM).status_code == 200
    answer = wait_for(lambda: [m for m in slack.by_bot() if m.thread_ts == card.ts])[0]
    assert QPDAR_IP in str(answer.blocks).replace("[.]", ".")


def test_a_card_made_on_one_replica_is_warm_on_the_other(
    replicas: tuple[Replica, Replica], slack: RecordingSlack, dns_server: DnsServer
) -> None:
    one, two = replicas
    name = f"c{secrets.token_hex(4)}.{QPDAR}"  # never asked before, by any test or run

    def asked() -> int:
        return len([q for q in dns_server.queries if q[0].rstrip(".") == name])

    command(one, slack, name, team())
    first = asked()
    assert first, "the first card asked DNS"
    command(two, slack, name, team())
    assert asked() == first, "the second replica answered from the shared cache"


def test_what_one_replica_learns_is_a_pivot_on_the_other(
    replicas: tuple[Replica, Replica], slack: RecordingSlack
) -> None:
    one, two = replicas
    command(one, slack, "qpdar[.]pw", team())  # learns qpdar.pw -> A -> 212.61.180.100
    for _ in range(50):  # the index is written after the card, off the request path
        card = command(two, slack, QPDAR_IP.replace(".", "[.]"), team())
        hosted = [b for b in buttons(card) if b["action_id"] == "pivot:reverse_ip"]
        if hosted:
            break
        time.sleep(0.2)
    assert hosted and hosted[0]["text"]["text"] == "Co-hosted (1)"


def test_redis_lost_mid_burst_loses_no_acknowledged_reply_and_doubles_none(
    replicas: tuple[Replica, Replica], slack: RecordingSlack, redis_proxy: TcpProxy
) -> None:
    team_id, sent = team(), []
    for n in range(40):
        if n == 10:
            redis_proxy.stop()  # Redis goes away in the middle of the burst...
        if n == 30:
            redis_proxy.start()  # ...and comes back
        posted = slack.user_message("C1", f"beacon {n} to qpdar[.]pw", user="U1")
        event = {"channel": "C1", "user": "U1", "text": posted.text, "ts": posted.ts}
        body = payloads.message_event(event, team=team_id)
        if replicas[n % 2].post(body, payloads.JSON).status_code == 200:
            sent.append(posted.ts)
    assert sent, "acknowledged while Redis was away too"

    def answered() -> dict[str, int]:
        threads = [m.thread_ts for m in slack.by_bot() if m.thread_ts in sent]
        return {ts: threads.count(ts) for ts in set(threads)}

    wait_for(lambda: len(answered()) == len(sent), seconds=60)
    assert set(answered().values()) == {1}, "each acknowledged message answered exactly once"
