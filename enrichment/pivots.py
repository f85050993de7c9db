"""The pivot table: every pivot a card can offer, as one entry each.

An entry says on which kinds of card it is offered and on what (`targets`: the card's own
indicator, each of its name servers, its registrant's e-mail, ...), and how it is answered:
either from the report itself (`items`/`text`, with `needs` naming the on-request sources to
ask), or as a reverse lookup (`relation` in the team's index, and every enabled source whose
`reverse` names the pivot). Adding a pivot is one entry here; the Slack side renders whatever
a report offers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from enrichment.errors import InvalidInput
from enrichment.index.model import Relation
from enrichment.indicators import lookup_target, make_indicator
from enrichment.model import Indicator, Kind, PivotOffer, Report
from enrichment.redaction import is_placeholder

Items = list[Indicator]
Targets = Callable[[Report], list[str]]


@dataclass(frozen=True)
class PivotSpec:
    id: str
    label: str
    kinds: frozenset[Kind]  # the cards that offer it
    targets: Targets  # what it runs on; none: not offered on that card
    items: Callable[[Report], Items] | None = None  # answered from the report
    text: Callable[[Report], str | None] = lambda _report: None
    count: Callable[[Report, str], int | None] = lambda _report, _target: None
    needs: tuple[str, ...] = ()  # on-request sources the report must ask
    source: str = "dns"
    relation: Relation | None = None  # answered by the index (and reverse sources)
    target_kind: Kind | None = None  # None: the target is text (a name, an organisation)

    @property
    def reverse(self) -> bool:
        """Answered by a reverse lookup (the index, sources that `reverse` it)."""
        return self.relation is not None


def _kinded(values: Any, guess: Callable[[str], Kind]) -> Items:
    out: Items = []
    for value in values or ():
        try:
            out.append(make_indicator(guess(str(value)), str(value)))
        except InvalidInput:
            continue  # an upstream answer that is not a valid indicator is dropped, not shown
    return out


def _ip_kind(value: str) -> Kind:
    return Kind.IPV6 if ":" in value else Kind.IPV4


def _domain_kind(_value: str) -> Kind:
    return Kind.DOMAIN


def _own(report: Report) -> list[str]:
    return [report.indicator.value]


def _if_any(*keys: str) -> Targets:
    """The card itself, when the report holds any of `keys`."""
    return lambda r: _own(r) if any(r.facts.get(k) for k in keys) else []


def _fact_values(key: str, limit: int = 3) -> Targets:
    """Each value of a fact (a name server, an address), at most `limit`."""

    def targets(report: Report) -> list[str]:
        value = report.facts.get(key)
        values = value if isinstance(value, list) else [value] if value else []
        return [str(v) for v in values[:limit]]

    return targets


def _registrant(key: str) -> Targets:
    """The registrant's value, unless it is withheld or a privacy service's."""

    def targets(report: Report) -> list[str]:
        value = report.facts.get(key)
        if not isinstance(value, str) or report.facts.get("redacted") or is_placeholder(value):
            return []
        return [value]

    return targets


def _email_or(key: str) -> Targets:
    registrant = _registrant(key)
    return lambda r: _own(r) if r.indicator.kind is Kind.EMAIL else registrant(r)


def _dt_count(key: str) -> Callable[[Report, str], int | None]:
    """A count DomainTools' profile gave on this card (`{target: n}` or a plain number), less
    the card's own domain, which the profile counts among its registrant's or IP's domains
    (a reverse pivot never counts the card itself)."""

    def count(report: Report, target: str) -> int | None:
        value = report.facts.get(key)
        if isinstance(value, dict):
            value = value.get(target)
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        return max(value - 1, 0) if report.indicator.kind is Kind.DOMAIN else value

    return count


def _url_host(report: Report) -> Items:
    host = lookup_target(report.indicator)
    return [host] if host is not report.indicator else []


def _raw_whois(report: Report) -> str | None:
    return report.raw("whois")


_DOMAIN = frozenset({Kind.DOMAIN})
_IP = frozenset({Kind.IPV4, Kind.IPV6})

PIVOTS: tuple[PivotSpec, ...] = (
    PivotSpec(
        "resolve",
        "Resolve",
        _DOMAIN,
        _if_any("a", "aaaa"),
        items=lambda r: _kinded([*r.facts.get("a", ()), *r.facts.get("aaaa", ())], _ip_kind),
    ),
    PivotSpec(
        "ptr",
        "PTR names",
        _IP,
        _if_any("ptr"),
        items=lambda r: _kinded(r.facts.get("ptr"), _domain_kind),
    ),
    PivotSpec("host", "Host", frozenset({Kind.URL}), _own, items=_url_host),
    PivotSpec(
        "name_servers",
        "Name servers",
        _DOMAIN,
        _if_any("name_servers"),
        items=lambda r: _kinded(r.facts.get("name_servers"), _domain_kind),
    ),
    PivotSpec(
        "raw_whois",
        "Raw WHOIS",
        _DOMAIN | _IP,
        _own,
        text=_raw_whois,
        needs=("whois",),
        source="whois",
    ),
    PivotSpec(
        "reverse_ip",
        "Co-hosted",
        _IP | _DOMAIN,
        lambda r: _own(r) if r.indicator.kind in _IP else _fact_values("a")(r),
        count=_dt_count("dt_ip_domains"),
        relation=Relation.A,
        target_kind=Kind.IPV4,
        source="index",
    ),
    PivotSpec(
        "neighbours",
        "Network neighbours",
        _IP,
        _own,
        relation=Relation.A,
        target_kind=Kind.IPV4,
        source="index",
    ),
    PivotSpec(
        "same_ns",
        "Same name server",
        _DOMAIN,
        lambda r: [*_own(r), *_fact_values("name_servers")(r)],
        count=_dt_count("dt_ns_domains"),
        relation=Relation.NS,
        target_kind=Kind.DOMAIN,
        source="index",
    ),
    PivotSpec(
        "reverse_whois_email",
        "Registrant's domains",
        _DOMAIN | frozenset({Kind.EMAIL}),
        _email_or("registrant_email"),
        count=_dt_count("dt_registrant_domains"),
        relation=Relation.REGISTRANT_EMAIL,
        target_kind=Kind.EMAIL,
        source="index",
    ),
    PivotSpec(
        "reverse_whois_name",
        "Same registrant name",
        _DOMAIN,
        _registrant("registrant_name"),
        relation=Relation.REGISTRANT_NAME,
        source="index",
    ),
    PivotSpec(
        "reverse_whois_org",
        "Same registrant org",
        _DOMAIN,
        _registrant("registrant_org"),
        relation=Relation.REGISTRANT_ORG,
        source="index",
    ),
    PivotSpec(
        "subdomains",
        "Subdomains",
        _DOMAIN,
        _own,
        relation=Relation.REGISTERED_DOMAIN,
        target_kind=Kind.DOMAIN,
        source="index",
    ),
)

BY_ID: Mapping[str, PivotSpec] = {spec.id: spec for spec in PIVOTS}


def spec_for(pivot_id: str) -> PivotSpec:
    spec = BY_ID.get(pivot_id)
    if spec is None:
        raise InvalidInput(f"unknown pivot {pivot_id!r}; known: {', '.join(sorted(BY_ID))}")
    return spec


def offers(report: Report, available: frozenset[str]) -> tuple[PivotOffer, ...]:
    """The pivots worth a button on this report, each on each of its targets; `available`
    names the enabled sources. Counts come from the report where it has them (the index's
    counts are added by the service). A pivot that needs a source is offered when that source
    is enabled and did not just fail on this card (a button that would only repeat the
    failure promises what it cannot give)."""
    out = []
    for spec in PIVOTS:
        if report.indicator.kind not in spec.kinds:
            continue
        if spec.needs and not set(spec.needs) <= available:
            continue
        if any(report.results.get(name) in report.failed() for name in spec.needs):
            continue
        out += _offers(spec, report)
    return tuple(out)


def _offers(spec: PivotSpec, report: Report) -> list[PivotOffer]:
    offered = []
    for target in spec.targets(report):
        if not _valid_target(spec, target):
            continue  # a hostile record's "name server" is no pivot
        count = spec.count(report, target)
        if spec.items is not None:
            count = len(spec.items(report)) or None
        offered.append(PivotOffer(spec.id, spec.label, target, count))
    return offered


def _valid_target(spec: PivotSpec, target: str) -> bool:
    try:
        target_indicator(spec, target)
    except InvalidInput:
        return False
    return True


def target_indicator(spec: PivotSpec, target: str) -> Indicator | None:
    """The target as an indicator when the pivot runs on one (an address, a name server, an
    e-mail address), else None (a registrant's name or organisation). Raises InvalidInput
    when the target is not a valid indicator of the pivot's kind."""
    if spec.target_kind is None:
        return None
    kind = _ip_kind(target) if spec.target_kind is Kind.IPV4 else spec.target_kind
    return make_indicator(kind, target)
