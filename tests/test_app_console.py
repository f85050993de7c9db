"""The console as a user runs it: `python -m bot shell` fed through a pipe."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.console.shell import PASTE_END, PASTE_START, _next_input
from enrichment.index import FILE_NAME
from enrichment.index.model import Listing
from enrichment.index.sqlite import SqliteIndex
from tests.servers.dns_server import QPDAR_IP, DnsServer

REPO = Path(__file__).resolve().parents[1]
PARAGRAPH = (
    "Locky dropper hxxp://qpdar[.]pw/main.php resolved to 212.61.180[.]100; "
    "follow-up mail from billing@qpdar[.]pw."
)


def run_shell(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PIVOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "shell"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**clean, **env},
    )


def loopback_env(dns_server: DnsServer, data: Path, sources: str) -> dict[str, str]:
    host, port = dns_server.address
    return {
        "PIVOT_DATA_DIR": str(data),
        "PIVOT_SOURCES": sources,
        "PIVOT_DNS_SERVERS": f"{host}:{port}",
        "PIVOT_DEADLINE": "3",
    }


def undefanged(text: str) -> str:
    return text.replace("[.]", ".")


def test_console_with_loopback_sources_shows_real_facts_and_pivots(
    dns_server: DnsServer, tmp_path: Path
) -> None:
    done = run_shell("/pivot qpdar[.]pw\n1\nquit\n", loopback_env(dns_server, tmp_path, "dns"))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    card, _, after_click = done.stdout.partition("> 1")
    assert "[1] " in card
    assert QPDAR_IP in undefanged(card)
    assert QPDAR_IP in undefanged(after_click)  # the first button (resolve) ran
    assert "    │ " in after_click  # in the card's thread


def test_console_offline_answers_pasted_text_and_buttons_without_traceback(
    tmp_path: Path,
) -> None:
    nowhere = "127.0.0.1:9"  # discard port: nothing answers
    env = {
        "PIVOT_DATA_DIR": str(tmp_path),
        "PIVOT_SOURCES": "dns,rdap,whois",
        "PIVOT_DNS_SERVERS": nowhere,
        "PIVOT_RDAP_URL": f"http://{nowhere}",
        "PIVOT_WHOIS_SERVER": nowhere,
        "PIVOT_DEADLINE": "0.5",
    }
    done = run_shell(f"/pivot qpdar[.]pw\n{PARAGRAPH}\n2\n3\nhelp\n99\n", env)  # EOF ends it
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    out = done.stdout
    assert "offline" in out  # it says why cards may be empty
    assert "Every source failed: they look unreachable" in out  # said once, not a list
    assert "hxxp://qpdar[.]pw" in out or "hxxp://qpdar[.]pw/main[.]php" in out
    assert "there is no button [99]" in out
    assert out.count("[pivot") >= 4  # card, summary, and the two buttons' results


@pytest.mark.parametrize("line", ["quit", "exit"])
def test_console_ends_cleanly_on_quit(line: str, tmp_path: Path) -> None:
    done = run_shell(f"{line}\n/pivot qpdar[.]pw\n", {"PIVOT_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0
    assert "[pivot" not in done.stdout  # nothing after quit ran
    assert done.stderr == ""


async def _message_from(lines: list[str | None], tty: bool) -> str | None:
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    for line in lines:
        queue.put_nowait(line)
    return await _next_input(queue, tty)


async def test_a_marked_paste_is_one_message_however_it_arrives() -> None:
    lines = [
        f"{PASTE_START}/var/log says\n",
        "seen 212.61.180[.]100\n",
        f"and qpdar[.]pw{PASTE_END}\n",
    ]
    message = await _message_from([*lines, "next\n"], tty=True)
    assert message == "/var/log says\nseen 212.61.180[.]100\nand qpdar[.]pw"


async def test_lines_arriving_together_on_a_terminal_are_one_message() -> None:
    message = await _message_from(["C2 seen at\n", "qpdar[.]pw\n", "212.61.180[.]100\n"], tty=True)
    assert message == "C2 seen at\nqpdar[.]pw\n212.61.180[.]100"


async def test_a_pipe_gives_one_message_a_line() -> None:
    assert await _message_from(["C2 seen at\n", "qpdar[.]pw\n"], tty=False) == "C2 seen at\n"


async def test_an_unfinished_paste_ends_at_end_of_input() -> None:
    assert await _message_from([f"{PASTE_START}half a paste\n", None], tty=True) == "half a paste"


def test_console_shows_the_risk_line_and_presses_the_breakdown(
    dns_server: DnsServer, tmp_path: Path
) -> None:
    async def seed() -> None:
        index = SqliteIndex(tmp_path / FILE_NAME)  # where the console opens its index
        listed = [Listing("urlhaus", "qpdar.pw", "domain", "Locky", 1.455e9)]
        await index.replace_listings("urlhaus", listed)
        await index.aclose()

    asyncio.run(seed())
    env = loopback_env(dns_server, tmp_path, "dns,feeds")
    done = run_shell("/pivot qpdar[.]pw\n1\nquit\n", env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    card, _, after_click = done.stdout.partition("> 1")
    assert "*Risk 100/100 · malicious* · listed by URLhaus (Locky)  [1] Risk breakdown" in card
    assert "    │ == Risk breakdown: qpdar[.]pw ==" in after_click  # in the card's thread
    assert "    │ *+100 listed* · listed by URLhaus (Locky)" in after_click
    assert "    │ _urlhaus, as of 2016-02-09_" in after_click
