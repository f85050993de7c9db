"""Canonical values of each kind, and their defanged display forms.

Every `*_value` function takes a refanged candidate and returns its canonical form, or None
when it is not a valid indicator of that kind. None of them raises on any string.
"""

from __future__ import annotations

import ipaddress
import re

from enrichment.indicators._names import canonical_domain, display_domain
from enrichment.model import Kind

MAX_URL = 8192
URL_SCHEMES = frozenset({"http", "https", "ftp"})
HASH_KINDS = {32: Kind.MD5, 40: Kind.SHA1, 64: Kind.SHA256}

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_SPACE = re.compile(r"\s")
_AUTHORITY_END = re.compile(r"[/?#]")
_PORT = re.compile(r"\d{1,5}+")
_LOCAL_PART = re.compile(r"[a-z0-9_%+\-]++(?:\.[a-z0-9_%+\-]++)*+")
_HEX = re.compile(r"[0-9a-f]++")
_NESTED_SCHEME = re.compile(r"(?i)(?<![a-z0-9])(?:ht|f)tps?(?=://)")
_FANG = str.maketrans("tT", "xX")


def ipv4_value(raw: str) -> str | None:
    """Dotted quad, octets <= 255, no leading zeros (they read as octal to some tools)."""
    return raw if _IPV4.fullmatch(raw) else None


def ipv6_value(raw: str) -> str | None:
    if "%" in raw or ("::" not in raw and raw.count(":") < 6):  # zone index; `10:22:33`
        return None
    try:
        address = ipaddress.IPv6Address(raw)
    except ValueError:
        return None
    mapped = address.ipv4_mapped  # keep the dotted quad readable: ::ffff:1.2.3.4
    return f"::ffff:{mapped}" if mapped else address.compressed


def ip_value(raw: str) -> str | None:
    return ipv4_value(raw) if ":" not in raw else ipv6_value(raw)


def cidr_value(raw: str) -> str | None:
    """Network in CIDR notation, host bits cleared (`10.1.2.3/8` -> `10.0.0.0/8`)."""
    address, slash, prefix = raw.partition("/")
    if not slash or not prefix.isascii() or not prefix.isdigit() or len(prefix) > 3:
        return None
    ip = ip_value(address)
    if ip is None or (prefix.startswith("0") and prefix != "0"):
        return None
    try:
        return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
    except ValueError:
        return None


def hash_kind(raw: str) -> Kind | None:
    kind = HASH_KINDS.get(len(raw))
    return kind if kind and raw.isascii() and _HEX.fullmatch(raw.lower()) else None


def email_value(raw: str) -> str | None:
    """`local@domain` or `local@[address]`, lower-case, the domain or address canonical."""
    local, at, domain = raw.rpartition("@")
    local = local.lower()
    if not at or len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        return None
    host = _address_literal(domain) if domain.startswith("[") else canonical_domain(domain)
    return f"{local}@{host}" if host else None


def _address_literal(domain: str) -> str | None:
    """RFC 5321's `[192.0.2.1]` or `[IPv6:2001:db8::1]`, the address made canonical."""
    inner = domain[1:-1] if domain.endswith("]") else ""
    if inner[:5].lower() == "ipv6:":
        ip = ipv6_value(inner[5:])
        return f"[ipv6:{ip}]" if ip else None
    ip = ipv4_value(inner)
    return f"[{ip}]" if ip else None


def email_host(value: str) -> str:
    """The host of a canonical address: its domain, or the address of its address literal."""
    host = value.rpartition("@")[2]
    return host[1:-1].removeprefix("ipv6:") if host.startswith("[") else host


def _port_ok(port: str) -> bool:
    return port == "" or (_PORT.fullmatch(port) is not None and int(port) <= 65535)


def _bracketed_host(host_port: str) -> str | None:
    """`[v6]` or `[v6]:port`, the address made canonical."""
    inner, bracket, port = host_port[1:].partition("]")
    ip = ipv6_value(inner)
    if not bracket or ip is None or (port and not port.startswith(":")):
        return None
    return f"[{ip}]{port}" if _port_ok(port[1:]) else None


def host_value(host_port: str) -> str | None:
    """`host[:port]` of a URL with the host made canonical; None when either is invalid."""
    if host_port.startswith("["):
        return _bracketed_host(host_port)
    host, _, port = host_port.partition(":")
    name = ipv4_value(host) or canonical_domain(host)
    if name is None or not _port_ok(port):
        return None
    return f"{name}:{port}" if port else name


def _split_url(url: str) -> tuple[str, str, str, str] | None:
    """(scheme, userinfo with its '@', host[:port], path-query-fragment)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    end = _AUTHORITY_END.search(rest)
    cut = end.start() if end else len(rest)
    userinfo, at, host_port = rest[:cut].rpartition("@")
    return scheme, userinfo + at, host_port, rest[cut:]


def url_host(url: str) -> str | None:
    """The host of a URL as written in it, without brackets or port; None when `url` has no
    authority. Userinfo (`http://user@host/`) is not the host."""
    parts = _split_url(url)
    if parts is None:
        return None
    host_port = parts[2]
    if host_port.startswith("["):
        return host_port[1:].partition("]")[0] or None
    return host_port.partition(":")[0] or None


def url_value(raw: str) -> str | None:
    """Scheme lower-cased, host canonical, the rest kept as written."""
    parts = _split_url(raw) if len(raw) <= MAX_URL else None
    if parts is None or parts[0].lower() not in URL_SCHEMES:
        return None
    scheme, userinfo, host_port, tail = parts
    host = host_value(host_port)
    if host is None or _SPACE.search(tail):
        return None
    return f"{scheme.lower()}://{userinfo}{host}{tail}"


def defang_ipv4(value: str) -> str:
    head, dot, last = value.rpartition(".")
    return f"{head}[.]{last}" if dot else value


def defang_domain(value: str) -> str:
    return display_domain(value).replace(".", "[.]")


def _defang_host(host_port: str) -> str:
    if host_port.startswith("["):
        return host_port
    host, colon, port = host_port.partition(":")
    shown = defang_ipv4(host) if ipv4_value(host) else defang_domain(host)
    return shown + colon + port


def defang_url(value: str) -> str:
    """`hxxp://qpdar[.]pw/main.php`: scheme and host broken, the rest readable."""
    parts = _split_url(value)
    if parts is None:
        return value.replace(".", "[.]")
    scheme, userinfo, host_port, tail = parts
    if "://" in tail:
        tail = _NESTED_SCHEME.sub(lambda m: m[0].translate(_FANG), tail)
    return f"{scheme.translate(_FANG)}://{userinfo}{_defang_host(host_port)}{tail}"


def defang_email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if domain.startswith("["):  # an address literal: the IPv4 one defanged as ever
        inner = domain[1:-1]
        shown = f"[{defang_ipv4(inner) if ipv4_value(inner) else inner}]"
    else:
        shown = defang_domain(domain)
    return f"{local}[@]{shown}" if at else value


def defang_cidr(value: str) -> str:
    address, slash, prefix = value.partition("/")
    return defang_ipv4(address) + slash + prefix if ":" not in address else value


DEFANGERS = {
    Kind.DOMAIN: defang_domain,
    Kind.IPV4: defang_ipv4,
    Kind.CIDR: defang_cidr,
    Kind.URL: defang_url,
    Kind.EMAIL: defang_email,
}
