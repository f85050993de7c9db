"""What a card teaches the index: its facts as observations, each credited to its source.

Only facts a source found go in (never merged guesses), as the relation they are: a domain's
A and AAAA records, name servers, mail hosts and CNAME; its registrant's e-mail, name and
organisation (real ones: placeholders never reach facts); its registrar; a subdomain's
registrable domain; a URL's host; an address's network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from enrichment.index.model import Observation, Relation
from enrichment.indicators import registered_domain
from enrichment.model import Indicator, Kind, Report, Status

# fact key -> (relation, kind of its values)
FACT_RELATIONS: Mapping[str, tuple[Relation, str]] = {
    "a": (Relation.A, Kind.IPV4.value),
    "aaaa": (Relation.AAAA, Kind.IPV6.value),
    "name_servers": (Relation.NS, Kind.DOMAIN.value),
    "mx": (Relation.MX, Kind.DOMAIN.value),
    "cname": (Relation.CNAME, Kind.DOMAIN.value),
    "registrant_email": (Relation.REGISTRANT_EMAIL, Kind.EMAIL.value),
    "registrant_name": (Relation.REGISTRANT_NAME, "text"),
    "registrant_org": (Relation.REGISTRANT_ORG, "text"),
    "registrar": (Relation.REGISTRAR, "text"),
    "network": (Relation.NETWORK, Kind.CIDR.value),
}
_OWN_SUBJECT = {"network"}  # facts about the address itself, not a host it points to


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    return [str(v) for v in items if v not in (None, "")]


def _from_facts(
    subject: Indicator, source: str, facts: Mapping[str, Any], now: float
) -> Iterable[Observation]:
    for key, (relation, kind) in FACT_RELATIONS.items():
        if key not in facts or (key in _OWN_SUBJECT and subject.kind not in (Kind.IPV4, Kind.IPV6)):
            continue
        for value in _values(facts[key]):
            yield Observation(
                subject.value,
                subject.kind.value,
                relation,
                value.lower() if kind != "text" else value,
                kind,
                source,
                now,
                now,
            )


def observations(report: Report, target: Indicator, now: float) -> list[Observation]:
    """Everything the report's sources found about `target` (a URL's or e-mail's host, else
    the indicator), plus the URL -> host and subdomain -> registrable domain links."""
    out: list[Observation] = []
    for name, result in report.results.items():
        if result.status is Status.OK and not name.startswith("index"):
            out += _from_facts(target, name, result.facts, now)
    out += _links(report.indicator, target, now)
    return out


def _links(indicator: Indicator, target: Indicator, now: float) -> list[Observation]:
    out = []
    if indicator.kind is Kind.URL and target is not indicator:
        out.append(
            Observation(
                indicator.value,
                Kind.URL.value,
                Relation.HOST,
                target.value,
                target.kind.value,
                "pivot",
                now,
                now,
            )
        )
    if target.kind is Kind.DOMAIN:
        parent = registered_domain(target.value)
        if parent and parent != target.value:
            out.append(
                Observation(
                    target.value,
                    Kind.DOMAIN.value,
                    Relation.REGISTERED_DOMAIN,
                    parent,
                    Kind.DOMAIN.value,
                    "pivot",
                    now,
                    now,
                )
            )
    return out
