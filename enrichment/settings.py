"""Configuration, read once from the environment into a frozen object.

Nothing else in enrichment reads `os.environ`; tests build `Settings` directly or through
`Settings.from_env({...})`. A malformed variable raises `ConfigError` naming the variable and
what it accepts; `python -m bot` prints that one line and exits 2.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from enrichment.addresses import IpNetwork, parse_network
from enrichment.errors import ConfigError

T = TypeVar("T")
Env = Mapping[str, str]

FEEDS = ("URLHAUS", "THREATFOX", "FEODO", "OPENPHISH", "SPAMHAUS_DROP")
FEED_URLS = frozenset(f"PIVOT_FEED_{name}_URL" for name in FEEDS)
# URL variables that are not a source's base URL (`PIVOT_<SOURCE>_URL`).
OTHER_URLS = FEED_URLS | frozenset(
    {
        "PIVOT_SLACK_API_URL",
        "PIVOT_RDAP_URL",
        "PIVOT_RDAP_BOOTSTRAP_URL",
        "PIVOT_REDIS_URL",
        "PIVOT_DATABASE_URL",
    }
)
REDIS_SCHEMES = ("redis", "rediss", "unix")
DATABASE_SCHEMES = ("postgresql://", "postgres://")
MAX_DEADLINE = 600.0


def split_list(value: str | None) -> tuple[str, ...]:
    """A comma-separated variable's items, stripped, empty ones dropped."""
    return tuple(p.strip() for p in (value or "").split(",") if p.strip())


def parse_hostport(text: str, default_port: int) -> tuple[str, int]:
    """`host`, `host:port`, `[v6]:port` or a bare IPv6 address -> (host, port); ValueError
    when the port is not a number from 1 to 65535 or the host is empty."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") or str(default_port)
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, str(default_port)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad host or port in {text!r}")
    return host, int(port)


def read(env: Env, name: str, parse: Callable[[str], T], accepts: str) -> T | None:
    """`parse(env[name])`, None when unset or empty; ConfigError naming `name` and what it
    `accepts` when the value does not parse."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {accepts}, not {raw[:80]!r}") from None


def redacted_url(url: str) -> str:
    """`url` with its password (if any) replaced by `***`: safe to log or show."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rpartition("@")[2]
        return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()
    except ValueError:
        return "(a malformed URL)"


def _redis_url(env: Env) -> str | None:
    """PIVOT_REDIS_URL, checked to be something redis-py connects with. Not through `read`:
    its error quotes the value, and this one may hold a password."""
    raw = env.get("PIVOT_REDIS_URL", "").strip()
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        _ = parts.port  # ValueError when not a number in range
        if parts.scheme in REDIS_SCHEMES and (parts.hostname or parts.path):
            return raw
    except ValueError:
        pass
    raise ConfigError(
        "PIVOT_REDIS_URL must be a redis://, rediss:// or unix:// URL, "
        f"not {redacted_url(raw)[:80]!r}"
    )


def _deadline(text: str) -> float:
    seconds = float(text)
    if not 0 < seconds <= MAX_DEADLINE:
        raise ValueError(text)
    return seconds


def _networks(text: str) -> tuple[IpNetwork, ...]:
    found = [parse_network(item) for item in split_list(text)]
    if any(n is None for n in found):
        raise ValueError(text)
    return tuple(n for n in found if n is not None)


def _base_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ValueError(text)
    return text.rstrip("/")


def _database_url(env: Env) -> str | None:
    """PIVOT_DATABASE_URL, checked without ever echoing it: it may hold a password."""
    raw = env.get("PIVOT_DATABASE_URL", "").strip()
    if raw and not raw.startswith(DATABASE_SCHEMES):
        scheme = raw.split("://", 1)[0][:20] if "://" in raw else "no scheme"
        raise ConfigError(
            f"PIVOT_DATABASE_URL must be a postgresql:// or postgres:// URL, not {scheme!r}"
        )
    return raw or None


def _servers(text: str) -> tuple[tuple[str, int], ...]:
    return tuple(parse_hostport(s, 53) for s in split_list(text))


def _name(text: str) -> str:
    name = text.strip().strip(".").lower()
    if not name or " " in name or "," in name:
        raise ValueError(text)
    return name


def _names(text: str) -> tuple[str, ...]:
    return tuple(d.lower().strip(".") for d in split_list(text))


def _feed_urls(env: Env) -> dict[str, str]:
    """Where each feed is downloaded from, by upper-case feed name, when not the default."""
    urls = {}
    for name in FEEDS:
        url = read(env, f"PIVOT_FEED_{name}_URL", _base_url, "an http:// or https:// URL")
        if url:
            urls[name] = url
    return urls


def _source_urls(env: Env) -> dict[str, str]:
    """`PIVOT_<SOURCE>_URL` variables by lower-case source name (which names are sources is
    the registry's to say: the service checks them)."""
    names = [k for k in env if k.startswith("PIVOT_") and k.endswith("_URL")]
    names = [k for k in names if k not in OTHER_URLS and not k.startswith("PIVOT_TEST_")]
    urls = {}
    for name in names:
        url = read(env, name, _base_url, "an http:// or https:// base URL")
        if url:
            urls[name[len("PIVOT_") : -len("_URL")].lower()] = url
    return urls


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path.home() / ".cache" / "pivot"
    sources: tuple[str, ...] | None = None  # None: the defaults
    dns_servers: tuple[tuple[str, int], ...] = ()  # empty: the system's resolvers
    whois_server: tuple[str, int] | None = None
    rdap_url: str | None = None
    rdap_bootstrap_url: str | None = None
    source_urls: Mapping[str, str] = field(default_factory=dict)  # lower-case name -> base URL
    feed_urls: Mapping[str, str] = field(default_factory=dict)  # upper-case feed -> URL
    deadline: float = 8.0
    dns_canary: str = "a.root-servers.net"
    internal_networks: tuple[IpNetwork, ...] = ()
    internal_domains: tuple[str, ...] = ()
    domaintools_username: str | None = None
    domaintools_api_key: str | None = field(default=None, repr=False)
    mnemonic_api_key: str | None = field(default=None, repr=False)
    allowlist: tuple[str, ...] = ()  # domains (and subdomains) never auto-enriched nor damned
    brands: tuple[str, ...] = ()  # domains the team protects: lookalikes of them score high
    cache_enabled: bool = True
    redis_url: str | None = field(default=None, repr=False)  # may carry a password
    database_url: str | None = field(default=None, repr=False)  # PostgreSQL for the index

    @classmethod
    def from_env(cls, env: Env | None = None) -> Settings:
        """Read the environment; a malformed value raises ConfigError naming the variable."""
        env = os.environ if env is None else env
        found: dict[str, Any] = {
            "data_dir": read(env, "PIVOT_DATA_DIR", Path, "a directory"),
            "sources": read(env, "PIVOT_SOURCES", _names, "source names") or None,
            "dns_servers": read(env, "PIVOT_DNS_SERVERS", _servers, "ip[:port],..."),
            "whois_server": read(
                env, "PIVOT_WHOIS_SERVER", lambda t: parse_hostport(t, 43), "host[:port]"
            ),
            "rdap_url": read(env, "PIVOT_RDAP_URL", _base_url, "an http(s) URL"),
            "rdap_bootstrap_url": read(
                env, "PIVOT_RDAP_BOOTSTRAP_URL", _base_url, "an http(s) URL"
            ),
            "source_urls": _source_urls(env),
            "feed_urls": _feed_urls(env),
            "deadline": read(env, "PIVOT_DEADLINE", _deadline, "seconds in (0, 600]"),
            "dns_canary": read(env, "PIVOT_DNS_CANARY", _name, "a domain name"),
            "internal_networks": read(
                env, "PIVOT_INTERNAL_NETWORKS", _networks, "comma-separated CIDRs or addresses"
            ),
            "internal_domains": read(env, "PIVOT_INTERNAL_DOMAINS", _names, "domains"),
            "allowlist": read(env, "PIVOT_ALLOWLIST", _names, "domains"),
            "domaintools_username": read(env, "DOMAINTOOLS_USERNAME", str, "a user name"),
            "domaintools_api_key": read(env, "DOMAINTOOLS_API_KEY", str, "an API key"),
            "mnemonic_api_key": read(env, "MNEMONIC_API_KEY", str, "an API key"),
            "brands": read(env, "PIVOT_BRANDS", _names, "domains"),
            "redis_url": _redis_url(env),
            "database_url": _database_url(env),
        }
        return cls(**{k: v for k, v in found.items() if v is not None})

    def url_for(self, source: str, default: str) -> str:
        return self.source_urls.get(source, default)
