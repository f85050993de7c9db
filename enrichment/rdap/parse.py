"""RDAP answers (RFC 9083) to Pivot's facts: domains, IP networks, autonomous systems.

Pure functions over parsed JSON that came from outside: every field may be missing, of the
wrong type, or hostile, so each read checks its type and nothing here raises on bad data.
Registrant data passes through `enrichment.redaction` and RFC 9537 `redacted` markers.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from enrichment.addresses import range_networks
from enrichment.redaction import is_placeholder
from enrichment.text import country_code, one_line

__all__ = [
    "autnum_facts",
    "domain_facts",
    "entities",
    "network_facts",
    "related_links",
    "vcard",
]

MAX_DEPTH = 4  # nested entities followed at most this deep
MAX_ENTITIES = 200
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# ARIN's vCards carry the country only as the last line of the address label, by name.
_ARIN_REGION = {
    "UNITED STATES": "US",
    "CANADA": "CA",
    "PUERTO RICO": "PR",
    "BAHAMAS": "BS",
    "BARBADOS": "BB",
    "BERMUDA": "BM",
    "JAMAICA": "JM",
    "CAYMAN ISLANDS": "KY",
    "ANTIGUA AND BARBUDA": "AG",
    "VIRGIN ISLANDS, BRITISH": "VG",
    "VIRGIN ISLANDS, U.S.": "VI",
}
_REDACTABLE = {
    "name": ("name", "'fn'"),
    "org": ("organi", "'org'"),
    "email": ("email",),
    "country": ("country",),
}
_RIRS = ("arin", "ripe", "apnic", "lacnic", "afrinic")

Facts = dict[str, Any]


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return one_line(value) or None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def roles(entity: dict[str, Any]) -> set[str]:
    return {r.lower() for r in _list(entity.get("roles")) if isinstance(r, str)}


def entities(doc: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every entity in `doc`, nested ones included, depth first, bounded."""
    if depth >= MAX_DEPTH:
        return
    for entity in _list(_dict(doc).get("entities"))[:MAX_ENTITIES]:
        if isinstance(entity, dict):
            yield entity
            yield from entities(entity, depth + 1)


def with_role(doc: Any, role: str, *, nested: bool = True) -> dict[str, Any] | None:
    found = entities(doc) if nested else iter(_list(_dict(doc).get("entities")))
    return next((e for e in found if isinstance(e, dict) and role in roles(e)), None)


def vcard(entity: dict[str, Any] | None, prop: str) -> list[tuple[dict[str, Any], Any]]:
    """(parameters, value) of every `prop` property in the entity's jCard (RFC 7095)."""
    card = _list(_dict(entity).get("vcardArray"))
    if len(card) < 2:
        return []
    out = []
    for item in _list(card[1]):
        if isinstance(item, list) and len(item) >= 4 and item[0] == prop:
            out.append((_dict(item[1]), item[3]))
    return out


def _first_text(entity: dict[str, Any] | None, prop: str) -> str | None:
    return next((t for _, v in vcard(entity, prop) if (t := _text(v))), None)


def _email(entity: dict[str, Any] | None) -> str | None:
    for _, value in vcard(entity, "email"):
        text = _text(value)
        if text and _EMAIL.fullmatch(text):
            return text.lower()
    return None


def _country_name(name: str | None) -> str | None:
    if not name:
        return None
    return country_code(name) or _ARIN_REGION.get(name.strip().upper())


def vcard_country(entity: dict[str, Any] | None) -> str | None:
    """Country code from `adr`: the `cc` parameter (RFC 8605), the country component, or the
    label's last line."""
    for params, value in vcard(entity, "adr"):
        code = _country_name(_text(params.get("cc")))
        parts = _list(value)
        if not code and len(parts) >= 7 and isinstance(parts[6], str):
            code = _country_name(parts[6])
        label = params.get("label")
        if not code and isinstance(label, str) and label.strip():
            code = _country_name(label.strip().splitlines()[-1])
        if code:
            return code
    return None


def _event(doc: dict[str, Any], action: str) -> str | None:
    for event in _list(doc.get("events")):
        event = _dict(event)
        when = event.get("eventDate")
        if event.get("eventAction") == action and isinstance(when, str):
            try:
                return date.fromisoformat(when[:10]).isoformat()
            except ValueError:
                continue
    return None


def related_links(doc: Any) -> list[str]:
    """`links` with rel "related" and an RDAP media type: a thin registry's pointer to the
    registrar's record."""
    out = []
    for link in _list(_dict(doc).get("links")):
        link = _dict(link)
        href, kind = link.get("href"), str(link.get("type", "application/rdap+json"))
        if link.get("rel") == "related" and isinstance(href, str) and "rdap+json" in kind:
            out.append(href)
    return out


def _redacted_fields(doc: dict[str, Any]) -> set[str]:
    """Which registrant fields an RFC 9537 `redacted` array says were withheld."""
    fields: set[str] = set()
    for entry in _list(doc.get("redacted")):
        entry = _dict(entry)
        name = _dict(entry.get("name"))
        parts = (name.get("type"), name.get("description"), entry.get("prePath"))
        words = " ".join(p for p in parts if isinstance(p, str)).lower()
        if "registrant" not in words:
            continue
        for key, needles in _REDACTABLE.items():
            if any(n in words for n in needles):
                fields.add(key)
    return fields


def registrant_facts(doc: dict[str, Any]) -> Facts:
    """The registrant's name, org, e-mail and country, placeholders and redactions left out;
    `redacted` is True when name, org or e-mail was withheld, False when real ones were found."""
    entity = with_role(doc, "registrant", nested=False)
    withheld = _redacted_fields(doc)
    values = {
        "name": _first_text(entity, "fn"),
        "org": _first_text(entity, "org"),
        "email": _first_text(entity, "email"),
    }
    facts, hidden = _contact_facts(values, withheld)
    # An organisation filled with a placeholder is a privacy service: the address is its own.
    proxied = values["org"] is not None and is_placeholder(values["org"])
    country = vcard_country(entity)
    if country and "country" not in withheld and not proxied:
        facts["registrant_country"] = country
    if hidden:
        facts["redacted"] = True
    elif any(k in facts for k in ("registrant_name", "registrant_org", "registrant_email")):
        facts["redacted"] = False
    return facts


def _contact_facts(values: dict[str, str | None], withheld: set[str]) -> tuple[Facts, bool]:
    """The real name, org and e-mail, and whether any was withheld or a placeholder."""
    facts: Facts = {}
    hidden = bool(withheld & {"name", "org", "email"})
    for key, value in values.items():
        if value is None:
            continue
        if key in withheld or is_placeholder(value):
            hidden = True
        elif key != "email" or _EMAIL.fullmatch(value):
            facts[f"registrant_{key}"] = value.lower() if key == "email" else value
    return facts, hidden


def _registrar_facts(doc: dict[str, Any]) -> Facts:
    registrar = with_role(doc, "registrar", nested=False)
    facts: Facts = {}
    name = _first_text(registrar, "fn") or _first_text(registrar, "org")
    if name:
        facts["registrar"] = name
    abuse = with_role(registrar, "abuse") if registrar else None
    email = _email(abuse)
    if email:
        facts["registrar_abuse_email"] = email
    return facts


def _name_servers(doc: dict[str, Any]) -> list[str]:
    names = set()
    for server in _list(doc.get("nameservers")):
        name = _text(_dict(server).get("ldhName"))
        if name:
            names.add(name.lower().rstrip("."))
    return sorted(names)


def domain_facts(doc: Any) -> Facts:
    """Facts from one domain object (a registry's or a registrar's)."""
    doc = _dict(doc)
    facts: Facts = _registrar_facts(doc)
    for key, action in (
        ("created", "registration"),
        ("expires", "expiration"),
        ("updated", "last changed"),
    ):
        when = _event(doc, action)
        if when:
            facts[key] = when
    servers = _name_servers(doc)
    if servers:
        facts["name_servers"] = servers
    status = sorted({s for s in map(_text, _list(doc.get("status"))) if s})
    if status:
        facts["status"] = status
    facts.update(registrant_facts(doc))
    return facts


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _cidr0(doc: dict[str, Any]) -> list[IpNetwork]:
    out = []
    for item in _list(doc.get("cidr0_cidrs")):
        item = _dict(item)
        prefix = item.get("v4prefix") or item.get("v6prefix")
        try:
            out.append(ipaddress.ip_network(f"{prefix}/{int(item['length'])}", strict=False))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def _from_range(doc: dict[str, Any]) -> list[IpNetwork]:
    return range_networks(str(doc.get("startAddress")), str(doc.get("endAddress")))


def network_cidr(doc: dict[str, Any], address: str) -> str | None:
    """The network's CIDR holding `address`: from cidr0 if present, else from its range."""
    networks = _cidr0(doc) or _from_range(doc)
    try:
        target = ipaddress.ip_network(address, strict=False)
        holding = [n for n in networks if n.version == target.version and target.subnet_of(n)]  # type: ignore[arg-type]
    except ValueError:
        holding = []
    best = holding or networks
    return str(best[0]) if best else None


def _rir(doc: dict[str, Any]) -> str | None:
    port43 = str(doc.get("port43", "")).lower()
    return next((rir for rir in _RIRS if rir in port43), None)


def _origin_asns(doc: dict[str, Any]) -> list[int]:
    raw = _list(doc.get("arin_originas0_originautnums"))
    return sorted({n for n in raw if isinstance(n, int) and not isinstance(n, bool) and n > 0})


def _owner_facts(doc: dict[str, Any]) -> Facts:
    """Country and abuse contact, shared by networks and autonomous systems."""
    facts: Facts = {}
    country = country_code(doc.get("country"))
    if country:
        facts["country"] = country
    else:
        owner = with_role(doc, "registrant") or with_role(doc, "administrative")
        code = vcard_country(owner)
        if code:
            facts["country"] = code
    abuse = _email(with_role(doc, "abuse"))
    if abuse:
        facts["abuse_email"] = abuse
    return facts


def network_facts(doc: Any, address: str) -> Facts:
    """Facts from an "ip network" object, for the address (or CIDR) that was asked about."""
    doc = _dict(doc)
    facts: Facts = {}
    cidr = network_cidr(doc, address)
    optional = {
        "network": cidr,
        "network_name": _text(doc.get("name")),
        "handle": _text(doc.get("handle")),
        "rir": _rir(doc),
    }
    facts.update({k: v for k, v in optional.items() if v})
    facts.update(_owner_facts(doc))
    asns = _origin_asns(doc)
    if asns:
        facts["asn"] = asns[0]
    if len(asns) > 1:
        facts["asns"] = asns
    return facts


def autnum_facts(doc: Any) -> Facts:
    """Facts from an "autnum" object: `asn`, `as_name`, `handle`, `country`, `abuse_email`."""
    doc = _dict(doc)
    facts: Facts = {}
    start = doc.get("startAutnum")
    if isinstance(start, int) and not isinstance(start, bool):
        facts["asn"] = start
    optional = {
        "as_name": _text(doc.get("name")),
        "handle": _text(doc.get("handle")),
        "rir": _rir(doc),
    }
    facts.update({k: v for k, v in optional.items() if v})
    facts.update(_owner_facts(doc))
    return facts
