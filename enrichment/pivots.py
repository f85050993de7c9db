"""The pivot table: every pivot a card can offer, as one entry each.

An entry says which indicator kinds it serves, when to offer it (and with what count) given a
report, which extra sources it needs when it runs, and how to turn the report into results.
Adding a pivot is one entry here; the Slack side renders whatever a report offers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from enrichment.errors import InvalidInput
from enrichment.indicators import lookup_target, make_indicator
from enrichment.model import Indicator, Kind, PivotOffer, Report

Items = list[Indicator]


@dataclass(frozen=True)
class PivotSpec:
    id: str
    label: str
    kinds: frozenset[Kind]
    # report -> how many results (0: nothing to offer, None: unknown until it runs)
    count: Callable[[Report], int | None]
    items: Callable[[Report], Items] = lambda _report: []
    text: Callable[[Report], str | None] = lambda _report: None
    needs: tuple[str, ...] = ()  # sources to ask even when they do not run automatically
    source: str = "dns"


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


def _list_count(*keys: str) -> Callable[[Report], int | None]:
    def count(report: Report) -> int | None:
        return sum(len(report.facts.get(key) or ()) for key in keys)

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
        count=_list_count("a", "aaaa"),
        items=lambda r: _kinded([*r.facts.get("a", ()), *r.facts.get("aaaa", ())], _ip_kind),
    ),
    PivotSpec(
        "ptr",
        "PTR names",
        _IP,
        count=_list_count("ptr"),
        items=lambda r: _kinded(r.facts.get("ptr"), _domain_kind),
    ),
    PivotSpec("host", "Host", frozenset({Kind.URL}), count=lambda _r: 1, items=_url_host),
    PivotSpec(
        "name_servers",
        "Name servers",
        _DOMAIN,
        count=_list_count("name_servers"),
        items=lambda r: _kinded(r.facts.get("name_servers"), _domain_kind),
    ),
    PivotSpec(
        "raw_whois",
        "Raw WHOIS",
        _DOMAIN | _IP,
        count=lambda _r: None,
        text=_raw_whois,
        needs=("whois",),
        source="whois",
    ),
    PivotSpec(
        "subdomains",
        "Subdomains (crt.sh)",
        _DOMAIN,
        count=lambda r: r.facts.get("subdomain_count"),
        items=lambda r: _kinded(r.facts.get("subdomains"), _domain_kind),
        needs=("crtsh",),
        source="crtsh",
    ),
)

BY_ID: Mapping[str, PivotSpec] = {spec.id: spec for spec in PIVOTS}


def spec_for(pivot_id: str, kind: Kind) -> PivotSpec:
    spec = BY_ID.get(pivot_id)
    if spec is None:
        raise InvalidInput(f"unknown pivot {pivot_id!r}; known: {', '.join(sorted(BY_ID))}")
    if kind not in spec.kinds:
        raise InvalidInput(f"pivot {pivot_id!r} does not apply to a {kind.value}")
    return spec


def offers(report: Report, available: frozenset[str]) -> tuple[PivotOffer, ...]:
    """The pivots worth a button on this report; `available` names the enabled sources.

    A pivot that reads the report is offered when it has something to show; one that asks a
    source of its own (`needs`) is offered when that source is enabled and did not just fail
    on this card (a button that would only repeat the failure promises what it cannot give).
    """
    out = []
    for spec in PIVOTS:
        if report.indicator.kind not in spec.kinds:
            continue
        if spec.needs and not set(spec.needs) <= available:
            continue
        if any(report.results.get(name) in report.failed() for name in spec.needs):
            continue
        count = spec.count(report)
        if not spec.needs and count == 0:
            continue
        out.append(PivotOffer(spec.id, spec.label, report.indicator.value, count or None))
    return tuple(out)
