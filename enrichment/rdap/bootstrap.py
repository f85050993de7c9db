"""IANA's RDAP bootstrap (RFC 9224): which RDAP service answers for a domain, an IP, an ASN.

IANA's four files (dns, ipv4, ipv6, asn) ship in `enrichment/rdap/data/`, with our own
`overrides.json` (same shape) for ccTLDs that run RDAP without being listed in dns.json.
`refresh()` downloads fresh copies where the internet is reachable, checks them, and replaces
the old ones only when all four are good.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx

from enrichment.errors import Unavailable
from enrichment.http import make_client, request
from enrichment.indicators import to_ascii

__all__ = [
    "FILES",
    "IANA_URL",
    "PACKAGED",
    "Bootstrap",
    "ascii_name",
    "load",
    "refresh",
    "refresh_with_own_client",
]

IANA_URL = "https://data.iana.org/rdap/"
PACKAGED = Path(__file__).parent / "data"
FILES = ("dns.json", "ipv4.json", "ipv6.json", "asn.json")
OVERRIDES = "overrides.json"
MAX_FILE = 4 * 1024 * 1024

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Urls = tuple[str, ...]


@dataclass(frozen=True)
class Bootstrap:
    """The service tables; each lookup answers a base URL ending in "/" or None."""

    domains: Mapping[str, Urls]
    networks: tuple[tuple[IpNetwork, Urls], ...]  # longest prefix first
    asns: tuple[tuple[int, int, Urls], ...]

    def domain_url(self, name: str) -> str | None:
        labels = ascii_name(name).split(".")
        for i in range(len(labels)):
            urls = self.domains.get(".".join(labels[i:]))
            if urls:
                return _pick(urls)
        return None

    def ip_url(self, address: str) -> str | None:
        """Base URL for an address or a CIDR: the longest registered prefix holding it."""
        try:
            target = ipaddress.ip_network(address, strict=False)
        except ValueError:
            return None
        for network, urls in self.networks:
            if network.version == target.version and target.subnet_of(network):  # type: ignore[arg-type]
                return _pick(urls)
        return None

    def asn_url(self, number: int) -> str | None:
        for start, end, urls in self.asns:
            if start <= number <= end:
                return _pick(urls)
        return None


def ascii_name(name: str) -> str:
    """Lower-case A-label form of a domain name, without the root dot (as typed when it has
    no valid IDNA form: the lookup then finds no service)."""
    return to_ascii(name) or name.strip().rstrip(".").lower()


def _pick(urls: Urls) -> str:
    best = next((u for u in urls if u.startswith("https://")), urls[0])
    return best if best.endswith("/") else best + "/"


def _services(doc: Any) -> list[tuple[list[str], Urls]]:
    """The `services` of one bootstrap file; ValueError when the shape is wrong."""
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), list):
        raise ValueError("no services list")
    out = [service for service in map(_service, doc["services"]) if service[1]]
    if not out:
        raise ValueError("no usable services")
    return out


def _service(entry: Any) -> tuple[list[str], Urls]:
    """One `[keys, urls]` entry, keeping only http(s) URLs; ValueError when malformed."""
    if not (isinstance(entry, list) and len(entry) >= 2):
        raise ValueError("service entry is not [keys, urls]")
    keys, urls = entry[0], entry[1]
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ValueError("service keys are not strings")
    if not isinstance(urls, list):
        raise ValueError("service URLs are not a list")
    good = (u for u in urls if isinstance(u, str) and u.startswith(("https://", "http://")))
    return keys, tuple(good)


def _asn_range(key: str) -> tuple[int, int]:
    start, _, end = key.partition("-")
    low, high = int(start), int(end or start)
    if not 0 <= low <= high < 2**32:
        raise ValueError(f"bad AS range {key!r}")
    return low, high


def _networks(docs: Mapping[str, Any], name: str, version: int) -> list[tuple[IpNetwork, Urls]]:
    out = []
    for keys, urls in _services(docs[name]):
        for key in keys:
            network = ipaddress.ip_network(key, strict=False)
            if network.version != version:
                raise ValueError(f"{key} in {name}")
            out.append((network, urls))
    return out


def build(docs: Mapping[str, Any], overrides: Any = None) -> Bootstrap:
    """A `Bootstrap` from the four parsed files (by file name); ValueError when one is wrong."""
    domains = {k.lower(): urls for keys, urls in _services(docs["dns.json"]) for k in keys}
    if overrides is not None:
        domains.update({k.lower(): u for keys, u in _services(overrides) for k in keys})
    networks = [*_networks(docs, "ipv4.json", 4), *_networks(docs, "ipv6.json", 6)]
    networks.sort(key=lambda item: item[0].prefixlen, reverse=True)
    asns = [(*_asn_range(k), urls) for keys, urls in _services(docs["asn.json"]) for k in keys]
    return Bootstrap(domains, tuple(networks), tuple(asns))


def _read(path: Path) -> Any:
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise ValueError(f"{path.name} is larger than {MAX_FILE} bytes")
    return json.loads(data)


@lru_cache(maxsize=8)
def _load(directory: Path, stamp: tuple[tuple[int, int, int], ...]) -> Bootstrap:
    docs = {name: _read(directory / name) for name in FILES}
    extra = directory / OVERRIDES
    overrides_path = extra if extra.exists() else PACKAGED / OVERRIDES
    return build(docs, _read(overrides_path) if overrides_path.exists() else None)


def load(directory: Path = PACKAGED) -> Bootstrap:
    """The bootstrap in `directory` (default: the packaged copy), re-read when a file changes.

    Overrides come from `directory/overrides.json`, else the packaged ones. Raises
    Unavailable when a file is missing or malformed.
    """
    try:
        stats = [(directory / name).stat() for name in FILES]
        stamp = tuple((s.st_mtime_ns, s.st_size, s.st_ino) for s in stats)
        return _load(directory.resolve(), stamp)
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise Unavailable(f"RDAP bootstrap unreadable ({type(exc).__name__})") from exc


async def _fetch(http: httpx.AsyncClient, url: str) -> tuple[Any, bytes]:
    """The parsed file and its exact bytes, which are what gets written."""
    status, body = await request(http, "GET", url, max_bytes=MAX_FILE)
    if status != 200:
        raise Unavailable(f"{url}: HTTP {status}")
    try:
        return json.loads(body), body
    except (ValueError, RecursionError) as exc:
        raise Unavailable(f"{url}: not JSON") from exc


def _write_all(directory: Path, files: Mapping[str, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    temps = []
    for name, data in files.items():
        temp = directory / f".{name}.part"
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temps.append((temp, directory / name))
    for temp, final in temps:
        os.replace(temp, final)


async def refresh(
    http: httpx.AsyncClient, directory: Path, *, base_url: str = IANA_URL
) -> dict[str, str]:
    """Download the four files from `base_url` into `directory`; file name -> publication.

    Nothing is written unless every file downloads and parses into a usable table.
    """
    base = base_url if base_url.endswith("/") else base_url + "/"
    fetched = await asyncio.gather(*(_fetch(http, base + name) for name in FILES))
    docs = {name: doc for name, (doc, _) in zip(FILES, fetched, strict=True)}
    try:
        build(docs)
    except (ValueError, KeyError, TypeError) as exc:
        raise Unavailable(f"downloaded bootstrap is malformed: {exc}") from exc
    await asyncio.to_thread(
        _write_all, directory, {name: data for name, (_, data) in zip(FILES, fetched, strict=True)}
    )
    _load.cache_clear()
    return {name: str(doc.get("publication", "?")) for name, doc in docs.items()}


async def refresh_with_own_client(directory: Path, base_url: str = IANA_URL) -> dict[str, str]:
    """`refresh` with a client of its own (for the command line)."""
    async with make_client() as http:
        return await refresh(http, directory, base_url=base_url)
