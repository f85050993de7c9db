"""`python -m bot feeds refresh` and `python -m bot index import FILE`: real processes, a
loopback feed publisher, and what the next card and pivot read back from the index."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.servers.dns_server import QPDAR, QPDAR_IP, DnsServer
from tests.servers.http_server import Fault, HttpServer, Response
from tests.test_cli import offline_env, run

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
PUBLISHED = {
    "URLHAUS": ("/urlhaus.csv", "urlhaus_recent.csv"),
    "THREATFOX": ("/threatfox.json", "threatfox_recent.json"),
    "FEODO": ("/feodo.json", "feodo_ipblocklist.json"),
    "OPENPHISH": ("/openphish.txt", "openphish_feed.txt"),
    "SPAMHAUS_DROP": ("/drop_v4.json", "spamhaus_drop_v4.json"),
}


def feed_env(tmp_path: Path, dns: DnsServer, http: HttpServer) -> dict[str, str]:
    env = offline_env(tmp_path, dns) | {"PIVOT_SOURCES": "dns,feeds,index"}
    for name, (path, fixture) in PUBLISHED.items():
        http.route(path, Response.text((FEEDS / fixture).read_text()))
        env[f"PIVOT_FEED_{name}_URL"] = http.url + path
    return env


def card_json(env: dict[str, str]) -> dict[str, Any]:
    card = run(["pivot", "qpdar[.]pw", "--json"], env=env)
    assert card.returncode == 0, card.stderr
    return dict(json.loads(card.stdout))


def test_feeds_refresh_fills_the_index_and_the_next_card_says_listed(
    tmp_path: Path, dns_server: DnsServer, http_server: HttpServer
) -> None:
    env = feed_env(tmp_path, dns_server, http_server)
    http_server.fault(Fault.error(503), "/drop_v4.json")
    out = run(["feeds", "refresh"], env=env)
    lines = out.stdout.decode().splitlines()
    assert out.returncode == 1, "a failed feed is an exit status scripts can see"
    assert any(line.startswith("urlhaus: updated, ") for line in lines), lines
    assert any(line.startswith("spamhaus_drop: failed") for line in lines), lines
    assert b"Traceback" not in out.stderr

    report = card_json(env)
    assert report["sources"]["feeds"]["status"] == "ok"
    assert "threatfox" in {x["feed"] for x in report["facts"]["listed_by"]}
    served = report["facts"]["listed_urls"]  # URLhaus lists a URL on it, not the name
    assert [(x["feed"], x["value"]) for x in served] == [("urlhaus", "http://qpdar.pw/main.php")]
    assert report["risk"]["score"] == 100


def test_a_failed_feed_loads_on_the_next_refresh(
    tmp_path: Path, dns_server: DnsServer, http_server: HttpServer
) -> None:
    env = feed_env(tmp_path, dns_server, http_server)
    http_server.fault(Fault.error(503), "/drop_v4.json")
    assert run(["feeds", "refresh"], env=env).returncode == 1
    http_server.clear_faults()  # the publisher is back: every feed loads
    again = run(["feeds", "refresh"], env=env)
    assert again.returncode == 0, again.stdout
    assert any(x.startswith("spamhaus_drop: updated") for x in again.stdout.decode().splitlines())


def co_hosted(env: dict[str, str]) -> dict[str, Any]:
    page = run(["pivot", QPDAR_IP, "--follow", "reverse_ip", "--json"], env=env)
    assert page.returncode == 0, page.stderr
    return dict(json.loads(page.stdout))


def import_story(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """Passive DNS for three names on the story's IP, and one row that is no name."""
    export = tmp_path / "pdns.jsonl"
    rows = [
        {"rrname": f"{name}.", "rrtype": "A", "rdata": [QPDAR_IP], "time_last": 1.7e9}
        for name in ("qpdar.pw", "kvmhost-update.pw", "xkqvbtrw.pw")
    ]
    rows.append({"rrname": "broken..name", "rrtype": "A", "rdata": [QPDAR_IP]})
    export.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return run(["index", "import", str(export)], env=env)


def test_index_import_reports_bad_rows_and_the_reverse_pivot_finds_the_rest(
    tmp_path: Path, dns_server: DnsServer
) -> None:
    env = offline_env(tmp_path, dns_server) | {"PIVOT_SOURCES": "dns,index"}
    out = import_story(tmp_path, env)
    text = out.stdout.decode()
    assert out.returncode == 1, "skipped rows are an exit status scripts can see"
    assert "4 rows, 3 observations imported" in text
    assert "line 4:" in text
    found = co_hosted(env)
    assert found["total"] == 3
    assert {i["value"] for i in found["items"]} == {QPDAR, "kvmhost-update.pw", "xkqvbtrw.pw"}
    assert all("[.]" in i["defanged"] for i in found["items"])


def test_an_unreadable_import_changes_nothing(tmp_path: Path, dns_server: DnsServer) -> None:
    env = offline_env(tmp_path, dns_server) | {"PIVOT_SOURCES": "dns,index"}
    import_story(tmp_path, env)
    garbage = tmp_path / "latin1.csv"
    garbage.write_bytes(b"subject,relation,object\nqpdar.pw,a,10.0.0.1\ncaf\xe9.pw,a,1.2.3.4\n")
    out = run(["index", "import", str(garbage)], env=env)
    assert out.returncode == 1 and b"nothing imported" in out.stderr, out.stderr
    assert b"Traceback" not in out.stderr
    assert co_hosted(env)["total"] == 3, "not even the good first row went in"
    missing = run(["index", "import", str(tmp_path / "nope.csv")], env=env)
    assert missing.returncode == 1 and b"cannot read" in missing.stderr
