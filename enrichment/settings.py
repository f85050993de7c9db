"""Configuration, read once from the environment into a frozen object.

Nothing else in enrichment reads `os.environ`; tests build `Settings` directly or through
`Settings.from_env({...})`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from enrichment.errors import InvalidInput

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

FEEDS = ("URLHAUS", "THREATFOX", "FEODO", "OPENPHISH", "SPAMHAUS_DROP")


def split_list(value: str | None) -> tuple[str, ...]:
    """A comma-separated variable's items, stripped, empty ones dropped."""
    return tuple(p.strip() for p in (value or "").split(",") if p.strip())


def _seconds(value: str | None, default: float) -> float:
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 600:
        raise ValueError(f"PIVOT_DEADLINE must be a number of seconds in (0, 600], not {value!r}")
    return seconds


def parse_hostport(text: str, default_port: int) -> tuple[str, int]:
    """`host`, `host:port`, `[v6]:port` or a bare IPv6 address -> (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest.lstrip(":") or default_port)
    if text.count(":") == 1:
        host, port = text.split(":")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"bad port in {text!r}")
        return host, int(port)
    return text, default_port


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path.home() / ".cache" / "pivot"
    sources: tuple[str, ...] | None = None  # None: the defaults
    dns_servers: tuple[tuple[str, int], ...] = ()  # empty: the system's resolvers
    whois_server: tuple[str, int] | None = None
    rdap_url: str | None = None
    source_urls: Mapping[str, str] = field(default_factory=dict)  # lower-case name -> base URL
    feed_urls: Mapping[str, str] = field(default_factory=dict)  # upper-case feed -> URL
    domaintools_username: str | None = None
    domaintools_api_key: str | None = field(default=None, repr=False)
    deadline: float = 8.0
    brands: tuple[str, ...] = ()
    internal_networks: tuple[Network, ...] = ()
    internal_domains: tuple[str, ...] = ()
    cache_enabled: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the environment; a malformed value raises InvalidInput naming the problem."""
        try:
            return cls._from_env(os.environ if env is None else env)
        except ValueError as exc:
            raise InvalidInput(f"bad configuration: {exc}") from exc

    @classmethod
    def _from_env(cls, env: Mapping[str, str]) -> Settings:
        urls = {
            k[len("PIVOT_") : -len("_URL")].lower(): v.rstrip("/")
            for k, v in env.items()
            if k.startswith("PIVOT_")
            and k.endswith("_URL")
            and not k.startswith("PIVOT_FEED_")
            and v.strip()
        }
        for special in ("rdap", "slack_api"):
            urls.pop(special, None)
        feeds = {
            name: env[f"PIVOT_FEED_{name}_URL"]
            for name in FEEDS
            if env.get(f"PIVOT_FEED_{name}_URL")
        }
        whois = env.get("PIVOT_WHOIS_SERVER")
        sources = split_list(env.get("PIVOT_SOURCES"))
        data_dir = env.get("PIVOT_DATA_DIR")
        return cls(
            data_dir=Path(data_dir) if data_dir else cls.data_dir,
            sources=tuple(s.lower() for s in sources) or None,
            dns_servers=tuple(
                parse_hostport(s, 53) for s in split_list(env.get("PIVOT_DNS_SERVERS"))
            ),
            whois_server=parse_hostport(whois, 43) if whois else None,
            rdap_url=(env.get("PIVOT_RDAP_URL") or "").rstrip("/") or None,
            source_urls=urls,
            feed_urls=feeds,
            domaintools_username=env.get("DOMAINTOOLS_USERNAME") or None,
            domaintools_api_key=env.get("DOMAINTOOLS_API_KEY") or None,
            deadline=_seconds(env.get("PIVOT_DEADLINE"), cls.deadline),
            brands=tuple(b.lower() for b in split_list(env.get("PIVOT_BRANDS"))),
            internal_networks=tuple(
                ipaddress.ip_network(n, strict=False)
                for n in split_list(env.get("PIVOT_INTERNAL_NETWORKS"))
            ),
            internal_domains=tuple(
                d.lower().strip(".") for d in split_list(env.get("PIVOT_INTERNAL_DOMAINS"))
            ),
        )

    def url_for(self, source: str, default: str) -> str:
        return self.source_urls.get(source, default)
