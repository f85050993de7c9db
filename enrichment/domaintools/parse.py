"""DomainTools answers made into Pivot's facts.

Pivot's own keys where they exist (registrar, created, expires, updated, registrant_name,
registrant_org, registrant_email, registrant_country, name_servers, redacted), plus
`dt_registrant_domains` (how many domains the registrant holds), `dt_ip_domains`
({ip: domains hosted there}), `dt_ns_domains` ({name server: domains it serves}),
`dt_risk_score` (0-100) and `dt_risk_components` ([{"name", "score"}], highest first).
Every string passes through `one_line`; names and addresses must be valid indicators, and
registrant placeholders never become facts (they set `redacted`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from enrichment.errors import InvalidInput
from enrichment.indicators import make_indicator
from enrichment.model import Kind
from enrichment.redaction import is_placeholder
from enrichment.text import LINE_LIMIT, country_code, one_line

Doc = dict[str, Any]

MAX_NAMES = 10_000  # domains read from one answer
MAX_NAME_SERVERS = 20
MAX_COMPONENTS = 20
_CONTACT = (("name", "registrant_name"), ("org", "registrant_org"), ("email", "registrant_email"))


def as_dict(value: Any) -> Doc:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any, limit: int = LINE_LIMIT) -> str | None:
    return (one_line(value, limit) or None) if isinstance(value, str) else None


def count(value: Any) -> int | None:
    """A non-negative int, else None (booleans and numeric strings are not counts)."""
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return value if ok else None


def _date(value: Any) -> str | None:
    """`2016-02-03` from a date or an ISO timestamp; None when it is neither."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None


def _valid(kind: Kind, value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 320:
        return None
    try:
        return make_indicator(kind, value).value
    except InvalidInput:
        return None


def _address(value: Any) -> str | None:
    return _valid(Kind.IPV4, value) or _valid(Kind.IPV6, value)


def domains(values: Any, limit: int = MAX_NAMES) -> list[str]:
    """Valid, distinct domain names in the answer's order; the rest dropped."""
    found = (_valid(Kind.DOMAIN, v) for v in _list(values)[: limit * 2])
    return list(dict.fromkeys(d for d in found if d))[:limit]


def _present(facts: Doc) -> Doc:
    return {key: value for key, value in facts.items() if value not in (None, [], {})}


def _registrant_domains(registrant: Doc) -> int | None:
    """How many domains the registrant holds; None when the registrant is a placeholder (a
    privacy service holds millions, which says nothing about this one)."""
    name = _text(registrant.get("name"))
    return count(registrant.get("domains")) if name and not is_placeholder(name) else None


def profile_facts(profile: Doc) -> Doc:
    """Facts from the domain profile (`/v1/<domain>`)."""
    registration = as_dict(profile.get("registration"))
    server = as_dict(profile.get("server"))
    ip, hosted = _address(server.get("ip_address")), count(server.get("other_domains"))
    servers = [as_dict(ns).get("server") for ns in _list(profile.get("name_servers"))]
    return _present(
        {
            "registrar": _text(registration.get("registrar")),
            "created": _date(registration.get("created")),
            "expires": _date(registration.get("expires")),
            "updated": _date(registration.get("updated")),
            "name_servers": sorted(domains(servers, MAX_NAME_SERVERS)),
            "dt_registrant_domains": _registrant_domains(as_dict(profile.get("registrant"))),
            "dt_ip_domains": {ip: hosted} if ip and hosted is not None else None,
        }
    )


def _contact(contact: Doc) -> tuple[Doc, bool]:
    """The real name, org and e-mail, and whether any was a placeholder (empty is absent)."""
    facts: Doc = {}
    withheld = False
    for field, key in _CONTACT:
        value = _text(contact.get(field))
        if value is None:
            continue
        if is_placeholder(value):
            withheld = True
        elif key != "registrant_email":
            facts[key] = value
        elif email := _valid(Kind.EMAIL, value):
            facts[key] = email
    return facts, withheld


def registrant_facts(contact: Doc) -> Doc:
    """The registrant's facts; `redacted` True when a value was withheld, False when real
    ones were found."""
    facts, withheld = _contact(contact)
    org = _text(contact.get("org"))
    country = country_code(contact.get("country"))
    if country and not (org and is_placeholder(org)):  # a privacy proxy's country is its own
        facts["registrant_country"] = country
    if withheld:
        facts["redacted"] = True
    elif facts.keys() - {"registrant_country"}:
        facts["redacted"] = False
    return facts


def whois_facts(answer: Doc) -> Doc:
    """Facts from parsed WHOIS (`/v1/<domain>/whois/parsed`)."""
    parsed = as_dict(answer.get("parsed_whois"))
    facts = _present(
        {
            "registrar": _text(as_dict(parsed.get("registrar")).get("name")),
            "created": _date(parsed.get("created_date")),
            "expires": _date(parsed.get("expired_date")),
            "updated": _date(parsed.get("updated_date")),
            "name_servers": sorted(domains(parsed.get("name_servers"), MAX_NAME_SERVERS)),
        }
    )
    contacts = as_dict(parsed.get("contacts"))
    return facts | registrant_facts(as_dict(contacts.get("registrant")))


def _component(item: Any) -> dict[str, Any] | None:
    name = _text(as_dict(item).get("name"), 64)
    score = count(as_dict(item).get("risk_score"))
    return {"name": name, "score": score} if name and score is not None and score <= 100 else None


def risk_facts(risk: Doc) -> Doc:
    """Facts from the risk score (`/v1/risk?domain=`): the score and its components."""
    found = [_component(item) for item in _list(risk.get("components"))[:100]]
    components = sorted((c for c in found if c), key=lambda c: (-c["score"], c["name"]))
    score = count(risk.get("risk_score"))
    return _present(
        {
            "dt_risk_score": score if score is not None and score <= 100 else None,
            "dt_risk_components": components[:MAX_COMPONENTS],
        }
    )


def hosted(answer: Doc) -> list[str]:
    """The domains on an address (`/v1/<ip>/host-domains`)."""
    return domains(as_dict(answer.get("ip_addresses")).get("domain_names"))


def hosted_total(answer: Doc) -> int | None:
    return count(as_dict(answer.get("ip_addresses")).get("domain_count"))


def served(answer: Doc) -> list[str]:
    """The domains a name server serves (`/v1/<ns>/name-server-domains`), primary first."""
    return domains(_list(answer.get("primary_domains")) + _list(answer.get("secondary_domains")))


def served_total(answer: Doc) -> int | None:
    return count(as_dict(answer.get("name_server")).get("total"))


def whois_total(answer: Doc) -> int | None:
    """How many current domains a reverse-WHOIS quote or purchase matched."""
    return count(as_dict(answer.get("domain_count")).get("current"))
