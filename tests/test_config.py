"""One configuration error: every malformed or unknown variable gives one line naming it and
what it accepts, exit 2, and no traceback, whichever command reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "PIVOT_", "PORT")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIVOT_DATA_DIR", str(tmp_path / "data"))


CASES = [
    ({"PIVOT_AUTO": "bogus"}, [], "PIVOT_AUTO must be reply, react or off, not 'bogus'"),
    ({"PORT": "abc"}, ["serve"], "PORT must be a port number from 0 to 65535, not 'abc'"),
    ({"PORT": "70000"}, ["serve"], "PORT must be a port number"),
    ({"PIVOT_AUTO_MIN_SCORE": "high"}, [], "PIVOT_AUTO_MIN_SCORE must be a score from 0 to 100"),
    ({"PIVOT_SLACK_API_URL": "ftp://x"}, [], "PIVOT_SLACK_API_URL must be an http(s) URL"),
    ({"PIVOT_DEADLINE": "x"}, ["pivot", "qpdar.pw"], "PIVOT_DEADLINE must be seconds in (0, 600]"),
    ({"PIVOT_DEADLINE": "0"}, ["pivot", "qpdar.pw"], "PIVOT_DEADLINE must be seconds"),
    (
        {"PIVOT_INTERNAL_NETWORKS": "10.0.0.0/8, 10.0.0.0/33"},
        ["pivot", "qpdar.pw"],
        "PIVOT_INTERNAL_NETWORKS must be comma-separated CIDRs or addresses",
    ),
    ({"PIVOT_DNS_SERVERS": "1.1.1.1:99999"}, ["pivot", "qpdar.pw"], "PIVOT_DNS_SERVERS must be"),
    ({"PIVOT_WHOIS_SERVER": "whois.example:x"}, ["pivot", "x.pw"], "PIVOT_WHOIS_SERVER must be"),
    ({"PIVOT_RDAP_URL": "rdap.example"}, ["pivot", "x.pw"], "PIVOT_RDAP_URL must be an http(s)"),
    (
        {"PIVOT_INTERNETBD_URL": "http://127.0.0.1:9"},
        ["pivot", "qpdar.pw"],
        "unknown variable PIVOT_INTERNETBD_URL: no source has that name",
    ),
    ({"PIVOT_CRTSH_URL": "crt.sh"}, ["pivot", "qpdar.pw"], "PIVOT_CRTSH_URL must be an http"),
    ({"PIVOT_SOURCES": "dns,nope"}, ["pivot", "qpdar.pw"], "PIVOT_SOURCES names no source"),
]


@pytest.mark.parametrize(("env", "argv", "message"), CASES)
def test_a_bad_variable_is_one_line_and_exit_2(
    env: dict[str, str],
    argv: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("pivot: ") and message in err


@pytest.mark.parametrize(
    "name", ["PIVOT_MNEMONIC_URL", "PIVOT_DOMAINTOOLS_URL", "PIVOT_FEED_URLHAUS_URL"]
)
def test_names_reserved_for_sources_still_to_come_are_not_typos(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv("PIVOT_SOURCES", "dns")
    monkeypatch.setenv("PIVOT_DNS_SERVERS", "127.0.0.1:9")
    monkeypatch.setenv("PIVOT_DEADLINE", "0.5")
    assert cli.main(["pivot", "qpdar.pw", "--json"]) == 0
    assert '"indicator"' in capsys.readouterr().out


def test_a_data_directory_that_cannot_be_used_stops_serve_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "state").write_text("a file where the state directory should be")
    monkeypatch.setenv("PIVOT_DATA_DIR", str(blocked))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("PORT", "0")
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PIVOT_DATA_DIR" in err and "xoxb" not in err


def test_the_installed_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PIVOT_"))}
    env |= {"PIVOT_AUTO": "bogus", "PIVOT_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr == "pivot: PIVOT_AUTO must be reply, react or off, not 'bogus'\n"
