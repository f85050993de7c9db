"""The command line as outside scripts use it: a real process, real loopback upstreams."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.servers import rdap_data
from tests.servers.dns_server import (
    QPDAR,
    QPDAR_ASN,
    QPDAR_IP,
    QPDAR_IPV6,
    DnsServer,
)
from tests.servers.http_server import HttpServer, rdap_routes
from tests.servers.whois_server import WhoisServer


def run(
    args: list[str], stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PIVOT_", "SLACK_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        env={**base, **(env or {})},
        timeout=60,
        check=False,
    )


def offline_env(tmp_path: Path, server: DnsServer) -> dict[str, str]:
    host, port = server.address
    return {
        "PIVOT_DATA_DIR": str(tmp_path / "data"),
        "PIVOT_SOURCES": "dns,asn",
        "PIVOT_DNS_SERVERS": f"{host}:{port}",
    }


def test_extract_prints_one_object_per_indicator() -> None:
    text = "C2 at hxxp://qpdar[.]pw/main.php and 212.61.180[.]100; mail admin[@]qpdar[.]pw"
    out = run(["extract"], text.encode())
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert {
        "kind": "url",
        "value": "http://qpdar.pw/main.php",
        "defanged": "hxxp://qpdar[.]pw/main.php",
    } in rows
    assert all(set(r) == {"kind", "value", "defanged"} for r in rows)
    assert [r["kind"] for r in rows] == ["url", "ipv4", "email"]


def test_extract_survives_bad_input() -> None:
    for data in (b"", b"\x00\xff\xfe binary \x80 qpdar[.]pw \x00", b"\xc3\x28 evil[.]com"):
        out = run(["extract"], data)
        assert out.returncode == 0
        assert b"Traceback" not in out.stderr
    out = run(["extract"], b"\xff\xfe qpdar[.]pw")
    assert b"not valid UTF-8" in out.stderr
    assert json.loads(out.stdout)["value"] == QPDAR


def test_extract_handles_a_ten_megabyte_line() -> None:
    line = (b"a." * 2_500_000) + b" qpdar[.]pw " + (b"1." * 2_500_000)
    out = run(["extract"], line)
    assert out.returncode == 0, out.stderr[-500:]
    assert json.loads(out.stdout.splitlines()[0])["value"] == QPDAR


def test_pivot_json_has_the_designed_shape(tmp_path: Path, dns_server: DnsServer) -> None:
    out = run(["pivot", "qpdar[.]pw", "--json"], env=offline_env(tmp_path, dns_server))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert list(report) == ["indicator", "risk", "facts", "sources", "pivots"]
    assert report["facts"]["a"] == [QPDAR_IP]
    assert report["sources"]["dns"]["status"] == "ok"


def test_pivot_text_is_readable_and_defanged(tmp_path: Path, dns_server: DnsServer) -> None:
    text = run(["pivot", "qpdar[.]pw"], env=offline_env(tmp_path, dns_server))
    assert text.returncode == 0
    shown = text.stdout.decode()
    expected = [
        "qpdar[.]pw  (domain)\n",
        "  a             212[.]61[.]180[.]100\n",  # defanged, one fact a line
        "  name servers  ns1[.]bulletdns[.]net, ns2[.]bulletdns[.]net\n",
        "  sources       asn ok, dns ok",
    ]
    assert [line for line in expected if line not in shown] == []
    assert "qpdar.pw" not in shown and "212.61.180.100" not in shown  # nothing live
    assert "{" not in shown and "['" not in shown  # no Python reprs


def test_pivot_follow(tmp_path: Path, dns_server: DnsServer) -> None:
    env = offline_env(tmp_path, dns_server)
    follow = run(["pivot", "qpdar[.]pw", "--follow", "resolve", "--json"], env=env)
    assert follow.returncode == 0, follow.stderr
    page = json.loads(follow.stdout)
    assert page["pivot"] == "resolve" and page["total"] == 2 and page["page"] == 1
    assert [i["value"] for i in page["items"]] == [QPDAR_IP, QPDAR_IPV6]


def test_pivot_with_a_dead_upstream_still_prints_a_card(tmp_path: Path) -> None:
    env = {
        "PIVOT_DATA_DIR": str(tmp_path),
        "PIVOT_SOURCES": "dns",
        "PIVOT_DNS_SERVERS": "127.0.0.1:9",
        "PIVOT_DEADLINE": "2",
    }
    out = run(["pivot", "qpdar[.]pw", "--json"], env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["sources"]["dns"]["status"] in {"timeout", "error"}


def test_input_without_an_indicator_is_one_line_and_exit_2(tmp_path: Path) -> None:
    out = run(["pivot", "hello there"], env={"PIVOT_DATA_DIR": str(tmp_path)})
    assert out.returncode == 2
    assert out.stdout == b""
    assert len(out.stderr.decode().strip().splitlines()) == 1


def test_bad_configuration_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for env in ({"PIVOT_DEADLINE": "soon"}, {"PIVOT_SOURCES": "dns,bogus"}):
        out = run(["pivot", "qpdar[.]pw"], env={"PIVOT_DATA_DIR": str(tmp_path), **env})
        assert out.returncode == 2, out.stderr
        assert b"Traceback" not in out.stderr
        assert len(out.stderr.decode().strip().splitlines()) == 1


def test_unknown_follow_id_is_a_clear_error(tmp_path: Path, dns_server: DnsServer) -> None:
    out = run(["pivot", "qpdar[.]pw", "--follow", "nope"], env=offline_env(tmp_path, dns_server))
    assert out.returncode == 2
    assert b"unknown pivot" in out.stderr


def test_pivot_json_for_a_domain_an_ipv4_and_an_ipv6_with_every_source(
    tmp_path: Path, dns_server: DnsServer, http_server: HttpServer, whois_server: WhoisServer
) -> None:
    rdap_routes(http_server)
    whois_host, whois_port = whois_server.address
    env = {
        **offline_env(tmp_path, dns_server),
        "PIVOT_SOURCES": "dns,asn,rdap,whois,internetdb",
        "PIVOT_WHOIS_SERVER": f"{whois_host}:{whois_port}",
        "PIVOT_RDAP_URL": http_server.url + "/rdap",
        "PIVOT_INTERNETDB_URL": http_server.url + "/internetdb",
    }
    cards = {}
    for value in ("qpdar[.]pw", "212.61.180[.]100", rdap_data.V6_IP):
        out = run(["pivot", value, "--json"], env=env)
        assert out.returncode == 0, out.stderr
        cards[value] = json.loads(out.stdout)
    domain, ipv4, ipv6 = cards.values()
    assert (domain["facts"]["registrar"], domain["facts"]["created"]) == (
        rdap_data.QPDAR_FACTS["registrar"],
        "2016-02-03",
    )
    assert domain["sources"]["whois"]["status"] == "ok"
    assert (ipv4["facts"]["network"], ipv4["facts"]["asn"]) == (
        rdap_data.NL_NET_FACTS["network"],
        QPDAR_ASN,
    )
    assert ipv4["indicator"]["defanged"] == "212.61.180[.]100"
    assert (ipv6["facts"]["network"], ipv6["facts"]["country"], ipv6["indicator"]["kind"]) == (
        rdap_data.V6_NET_FACTS["network"],
        "US",
        "ipv6",
    )


def test_dga_prints_one_score_per_input_line_whatever_the_line_holds() -> None:
    lines = [
        "xjwqzkvbrtplmhd.com",
        "",
        "   ",
        "wikipedia.org",
        "qpdar[.]pw",
        "bücher.example",
        "\u2028line separator inside\u2028",
        "\x00\x01 junk with spaces",
        "a" * 5000,
    ]
    data = ("\r\n".join(lines[:3]) + "\n" + "\n".join(lines[3:]) + "\n").encode() + b"\xff\n"
    out = run(["dga"], data)
    assert out.returncode == 0, out.stderr
    scores = [float(s) for s in out.stdout.decode().splitlines()]
    assert len(scores) == len(lines) + 1
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[0] > 0.9 > scores[3]
    assert scores[1] == scores[2] == scores[7] == 0.0
    assert b"not valid UTF-8" in out.stderr
