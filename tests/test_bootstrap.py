"""The shipped IANA RDAP bootstrap, its lookups, and refreshing it over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot import cli
from enrichment.errors import Unavailable
from enrichment.http import make_client
from enrichment.rdap import bootstrap
from tests.servers.http_server import (
    Fault,
    HttpServer,
    Response,
)
from tests.servers.rdap_data import rdap_bootstrap


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as http:
        http.timeout = httpx.Timeout(1.0)
        yield http


def serve_packaged(server: HttpServer, prefix: str = "/rdap/") -> dict[str, bytes]:
    files = {name: (bootstrap.PACKAGED / name).read_bytes() for name in bootstrap.FILES}
    for name, data in files.items():
        server.route(prefix + name, Response(200, data, {"Content-Type": "application/json"}))
    return files


# -- the packaged copy -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("qpdar.pw", "https://rdap.radix.host/rdap/"),
        ("WWW.Example.COM.", "https://rdap.verisign.com/com/v1/"),
        ("bücher.de", "https://rdap.denic.de/"),  # an override, reached through its A-label
        ("nic.io", "https://rdap.identitydigital.services/rdap/"),
        ("example.ru", None),
        ("localhost", None),
    ],
)
def test_packaged_domains(name: str, expected: str | None) -> None:
    assert bootstrap.load().domain_url(name) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("212.61.180.100", "https://rdap.db.ripe.net/"),
        ("8.8.8.8", "https://rdap.arin.net/registry/"),
        ("1.1.1.1", "https://rdap.apnic.net/"),
        ("212.61.180.0/24", "https://rdap.db.ripe.net/"),
        ("2a00:1450:4001::1", "https://rdap.db.ripe.net/"),
        ("10.0.0.1", None),
        ("not an ip", None),
    ],
)
def test_packaged_networks(address: str, expected: str | None) -> None:
    assert bootstrap.load().ip_url(address) == expected


def test_packaged_asns() -> None:
    shipped = bootstrap.load()
    assert shipped.asn_url(3333) == "https://rdap.db.ripe.net/"
    assert shipped.asn_url(15169) == "https://rdap.arin.net/registry/"
    assert shipped.asn_url(2**32 - 1) is None


def test_packaged_files_are_ianas_and_the_overrides_say_they_are_ours() -> None:
    for name in bootstrap.FILES:
        doc = json.loads((bootstrap.PACKAGED / name).read_text())
        assert doc["version"] == "1.0" and doc["services"]
    overrides = json.loads((bootstrap.PACKAGED / "overrides.json").read_text())
    assert "not from IANA" in overrides["description"]
    dns = json.loads((bootstrap.PACKAGED / "dns.json").read_text())
    listed = {tld for keys, _ in dns["services"] for tld in keys}
    assert not listed & {tld for keys, _ in overrides["services"] for tld in keys}


# -- a directory of our own --------------------------------------------------------------


def test_longest_prefix_and_https_preference(tmp_path: Path) -> None:
    table = bootstrap.load(rdap_bootstrap(tmp_path, "http://127.0.0.1:9"))
    assert table.ip_url("212.61.180.100") == "http://127.0.0.1:9/rdap/"
    assert table.ip_url("212.1.1.1") == "http://127.0.0.1:9/wrong/"
    assert table.domain_url("a.com") == "http://127.0.0.1:9/rdap/"  # ftp:// ignored, "/" added
    assert table.domain_url("a.de") == "http://127.0.0.1:9/rdap/"  # the directory's overrides
    assert table.asn_url(64496) == table.asn_url(398001) == "http://127.0.0.1:9/rdap/"


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    directory = rdap_bootstrap(tmp_path, "http://127.0.0.1:9")
    assert bootstrap.load(directory).domain_url("x.pw") == "http://127.0.0.1:9/rdap/"
    rdap_bootstrap(directory, "https://rdap.example.net")
    assert bootstrap.load(directory).domain_url("x.pw") == "https://rdap.example.net/rdap/"


@pytest.mark.parametrize(
    "broken",
    ["{not json", '{"services": 3}', '{"services": [["pw"]]}', '{"services": []}'],
)
def test_a_malformed_file_is_unavailable(tmp_path: Path, broken: str) -> None:
    directory = rdap_bootstrap(tmp_path, "http://127.0.0.1:9")
    (directory / "dns.json").write_text(broken)
    with pytest.raises(Unavailable, match="bootstrap unreadable"):
        bootstrap.load(directory)


# -- refresh -----------------------------------------------------------------------------


async def test_refresh_writes_the_four_files(
    http_server: HttpServer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    served = serve_packaged(http_server)
    target = tmp_path / "fresh"
    published = await bootstrap.refresh(client, target, base_url=http_server.url + "/rdap")
    assert published["dns.json"] == "2026-07-23T02:00:03Z"
    assert {p.name for p in target.iterdir()} == set(bootstrap.FILES)
    assert all((target / name).read_bytes() == data for name, data in served.items())
    assert bootstrap.load(target).domain_url("qpdar.pw") == "https://rdap.radix.host/rdap/"


@pytest.mark.parametrize(
    ("path", "fault"),
    [
        ("/rdap/asn.json", Fault.error(404)),
        ("/rdap/ipv6.json", Fault.garbage()),
        ("/rdap/ipv4.json", Fault.oversized(5 * 1024 * 1024)),
    ],
)
async def test_a_failed_refresh_changes_nothing(
    http_server: HttpServer, client: httpx.AsyncClient, tmp_path: Path, path: str, fault: Fault
) -> None:
    serve_packaged(http_server)
    http_server.fault(fault, path)
    target = rdap_bootstrap(tmp_path / "current", "http://127.0.0.1:9")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    with pytest.raises(Unavailable):
        await bootstrap.refresh(client, target, base_url=http_server.url + "/rdap/")
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before


async def test_a_refresh_that_is_json_but_not_a_bootstrap_changes_nothing(
    http_server: HttpServer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    serve_packaged(http_server)
    http_server.route("/rdap/ipv4.json", {"services": [[["not-a-prefix"], ["https://x/"]]]})
    target = tmp_path / "never"
    with pytest.raises(Unavailable, match="malformed"):
        await bootstrap.refresh(client, target, base_url=http_server.url + "/rdap/")
    assert not target.exists()


def test_refresh_command(
    http_server: HttpServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serve_packaged(http_server)
    monkeypatch.setenv("PIVOT_RDAP_BOOTSTRAP_URL", http_server.url + "/rdap/")
    assert cli.main(["rdap-refresh", "--dir", str(tmp_path)]) == 0
    assert "dns.json: published 2026-07-23T02:00:03Z" in capsys.readouterr().out
    http_server.fault(Fault.error(404), "/rdap/dns.json")
    assert cli.main(["rdap-refresh", "--dir", str(tmp_path)]) == 1
    assert "not refreshed" in capsys.readouterr().err
