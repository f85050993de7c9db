"""WHOIS text -> our fact keys. Blocking (python-whois can be slow on big text): run in a thread.

Domain records are read by python-whois (`WhoisEntry.load`), whose field names differ per
TLD; they are mapped here onto ours, with a few fields it misses read directly (ICANN's
`Registrant Email:`, TCI's `person:`). Dates keep the day as the registry wrote it (no time
zone shift); with several values `created` is the earliest, `expires` and `updated` the
latest. Registrant values that are placeholders (`enrichment.redaction`) set `redacted` and are
dropped; `registrant_country` is kept only as a two-letter code; python-whois's `emails` (every
address in the text, the registrar's abuse desk included) is never read: the abuse desk comes
from ICANN's `Registrar Abuse Contact Email:` line alone.

Network records (RIPE-style `inetnum`/`inet6num`, ARIN-style `NetRange`/`CIDR`) are read
here: the most specific network holding the address wins, enclosing ones fill its gaps.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from whois.exceptions import PywhoisError, WhoisDomainNotFoundError
from whois.parser import WhoisEntry, cast_date

from enrichment.addresses import networks
from enrichment.redaction import is_placeholder
from enrichment.text import LINE_LIMIT as FIELD_LIMIT
from enrichment.text import country_code, one_line

__all__ = ["FIELD_LIMIT", "PARSE_LIMIT", "Parsed", "parse_domain", "parse_ip"]

PARSE_LIMIT = 64 * 1024  # records are a few KiB; the parser is quadratic on long lists
REGISTRANT = ("registrant_name", "registrant_org", "registrant_email", "registrant_country")

_PARSER_ERRORS = (PywhoisError, ValueError, TypeError, IndexError, OverflowError)
_NAME_KEYS = ("registrant_name", "name", "registrant_contact_name")
_ORG_KEYS = ("registrant_org", "registrant_organization", "org", "registrant_company_name")
_EMAIL_KEYS = ("registrant_email",)
_COUNTRY_KEYS = ("registrant_country", "registrant_country_code", "country", "country_code")
_TCI = (".ru", ".su", ".xn--p1ai")
_NOT_FOUND = re.compile(
    r"no match|not found|no entries found|no data found|no object found|status:\s*free"
    r"|does not exist|nothing found|not registered|no information available",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[^@\s<>|\"'`]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.IGNORECASE)
_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9])?)+")
_LINE = re.compile(r"^\s*([A-Za-z][\w-]*):[ \t]*(.*?)\s*$", re.M)
_REGISTRAR_ABUSE = re.compile(
    r"^[ \t]*Registrar Abuse Contact Email:[ \t]*"
    r"([^@\s<>|\"'`]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_ABUSE_COMMENT = re.compile(r"^% Abuse contact for .* is '([^']*)'", re.M)


@dataclass(frozen=True, slots=True)
class Parsed:
    facts: Mapping[str, Any]
    not_found: bool = False
    notes: tuple[str, ...] = ()


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _first(entry: Mapping[str, Any], keys: Iterable[str]) -> list[str]:
    return [one_line(v) for key in keys for v in _values(entry.get(key)) if one_line(v)]


# -- domains --------------------------------------------------------------------------------


def parse_domain(domain: str, texts: Sequence[str]) -> Parsed:
    """Facts from the registry's answer, completed by the registrar's when there is one."""
    parts = [_parse_one(domain, text) for text in texts]
    first = parts[0]
    if first.not_found:
        return first
    facts = dict(first.facts)
    for later in parts[1:]:
        if not later.not_found:
            facts = _merge(facts, later.facts)
    notes = tuple(dict.fromkeys(n for p in parts for n in p.notes))
    return Parsed(facts, notes=notes)


def _parse_one(domain: str, text: str) -> Parsed:
    text = text[:PARSE_LIMIT]
    notes: tuple[str, ...] = ()
    try:
        entry: Mapping[str, Any] = WhoisEntry.load(domain, text)
    except WhoisDomainNotFoundError:
        return Parsed({}, not_found=True)
    except _PARSER_ERRORS:
        entry, notes = _without_dates(domain, text), ("some dates could not be read",)
    facts = _domain_facts(domain, entry, text)
    if not facts and _NOT_FOUND.search(text):
        return Parsed({}, not_found=True)
    return Parsed(facts, notes=notes)


def _without_dates(domain: str, text: str) -> Mapping[str, Any]:
    regex = {k: v for k, v in WhoisEntry._regex.items() if "date" not in k}
    try:
        entry: Mapping[str, Any] = WhoisEntry(domain, text, regex)
    except _PARSER_ERRORS:
        return {}
    return entry


def _domain_facts(domain: str, entry: Mapping[str, Any], text: str) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    registrar = _first(entry, ["registrar"])
    if registrar:
        facts["registrar"] = re.sub(r"\s*\[Tag = [^\]]*\]$", "", registrar[-1])
    for key, source, pick in (
        ("created", ("creation_date", "created"), min),
        ("expires", ("expiration_date",), max),
        ("updated", ("updated_date",), max),
    ):
        days = _dates(v for k in source for v in _values(entry.get(k)))
        if days:
            facts[key] = pick(days).isoformat()
    facts.update(_registrant(domain, entry, text))
    if servers := _name_servers(_values(entry.get("name_servers"))):
        facts["name_servers"] = servers
    if status := _statuses(_values(entry.get("status"))):
        facts["status"] = status
    if abuse := _REGISTRAR_ABUSE.search(text):
        facts["registrar_abuse_email"] = abuse.group(1).lower()
    return facts


def _dates(values: Iterable[Any]) -> list[date]:
    out = []
    for value in values:
        if isinstance(value, str):
            try:
                value = cast_date(value)
            except _PARSER_ERRORS:
                continue
        if isinstance(value, datetime):
            out.append(value.date())
    return out


def _name_servers(values: list[Any]) -> list[str]:
    names = set()
    for value in values:
        token = (str(value).split() or [""])[0].lower().rstrip(".")
        if _HOST.fullmatch(token):
            names.add(token)
    return sorted(names)


def _statuses(values: list[Any]) -> list[str]:
    out: set[str] = set()
    for text in (one_line(v) for v in values):
        if "http" in text:  # an EPP code followed by its explanation URL
            out.add(text.split()[0])
        elif "," in text:
            out.update(p.strip() for p in text.split(","))
        else:
            out.add(text)
    return sorted(s for s in out if s)


def _own_fields(domain: str, text: str) -> tuple[list[str], list[str]]:
    """Registrant names and e-mails python-whois does not read."""
    names = []
    if domain.endswith(_TCI):
        names = [one_line(v) for k, v in _LINE.findall(text) if k.lower() == "person"]
    pattern = r"^\s*Registrant\s+E-?mail:[ \t]*(.*?)\s*$"
    emails = [one_line(v) for v in re.findall(pattern, text, re.M | re.I)]
    return [n for n in names if n], [e for e in emails if e]


def _registrant(domain: str, entry: Mapping[str, Any], text: str) -> dict[str, Any]:
    names, emails = _own_fields(domain, text)
    candidates = {
        "registrant_name": _first(entry, _NAME_KEYS) + names,
        "registrant_org": _first(entry, _ORG_KEYS),
        "registrant_email": _first(entry, _EMAIL_KEYS) + emails,
        "registrant_country": _first(entry, _COUNTRY_KEYS),
    }
    facts: dict[str, Any] = {}
    withheld = False
    for key, values in candidates.items():
        for value in values:
            if is_placeholder(value):
                withheld = True
            elif key not in facts and _acceptable(key, value):
                facts[key] = value.upper() if key == "registrant_country" else value
    if withheld:
        facts["redacted"] = True
    elif facts.keys() - {"registrant_country"}:
        facts["redacted"] = False
    return facts


def _acceptable(key: str, value: str) -> bool:
    if key == "registrant_email":
        return bool(_EMAIL.fullmatch(value))
    if key == "registrant_country":
        return country_code(value) is not None
    return True


def _merge(registry: Mapping[str, Any], registrar: Mapping[str, Any]) -> dict[str, Any]:
    """The registry is authoritative for the registration, the registrar for its contacts."""
    out = dict(registry)
    for key, pick in (("created", min), ("expires", max), ("updated", max)):
        both = [f[key] for f in (registry, registrar) if key in f]
        if both:
            out[key] = pick(both)
    contacts = (*REGISTRANT, "redacted")
    if any(key in registrar for key in contacts):
        for key in contacts:
            out.pop(key, None)
            if key in registrar:
                out[key] = registrar[key]
    for key, value in registrar.items():
        out.setdefault(key, value)
    return out


# -- networks -------------------------------------------------------------------------------


_NETWORK_FIELDS = (
    ("network_name", ("netname",)),
    ("country", ("country",)),
    ("abuse_email", ("orgabuseemail", "abuse-mailbox")),
    ("asn", ("originas", "origin")),
)


def parse_ip(address: str, text: str) -> Parsed:
    """Network facts for `address` from a regional registry's answer."""
    ip = ipaddress.ip_address(address)
    text = text[:PARSE_LIMIT]
    sections = _sections(text)
    found = [(net, s) for s in sections if (net := _network(s, ip)) is not None]
    if not found:
        return Parsed({}, not_found=bool(_NOT_FOUND.search(text)))
    found.sort(key=lambda pair: pair[0].prefixlen, reverse=True)
    comment = [one_line(m) for m in _ABUSE_COMMENT.findall(text)]
    facts = _section_facts([s for _, s in found], comment)
    return Parsed({"network": str(found[0][0]), **facts})


def _section_facts(ordered: list[dict[str, list[str]]], comment: list[str]) -> dict[str, Any]:
    """Each network fact from the most specific section that has it."""
    facts: dict[str, Any] = {}
    for key, fields in _NETWORK_FIELDS:
        values = [v for s in ordered for f in fields for v in s.get(f, [])]
        value = _network_value(key, values + comment if key == "abuse_email" else values)
        if value is not None:
            facts[key] = value
    return facts


def _sections(text: str) -> list[dict[str, list[str]]]:
    """One section per network object, holding every field up to the next network object."""
    sections: list[dict[str, list[str]]] = []
    for key, value in _LINE.findall(text):
        lowered = key.lower()
        if lowered in ("inetnum", "inet6num", "netrange"):
            sections.append({})
        if sections and value:
            sections[-1].setdefault(lowered, []).append(one_line(value))
    return sections


def _network(
    section: Mapping[str, list[str]], ip: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    texts = [p for v in section.get("cidr", []) for p in v.split(",")]
    for key in ("inetnum", "inet6num", "netrange"):
        texts += section.get(key, [])
    for text in texts:
        for network in networks(text):
            if network.version == ip.version and ip in network:
                return network
    return None


def _network_value(key: str, values: list[str]) -> Any:
    for value in values:
        if key == "country" and country_code(value):
            return country_code(value)
        if key == "abuse_email" and _EMAIL.fullmatch(value):
            return value.lower()
        if key == "asn" and (match := re.match(r"(?i)AS(\d{1,10})\b", value)):
            return int(match.group(1))
        if key == "network_name" and value:
            return value
    return None
