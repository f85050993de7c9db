"""Merging the sources' facts into one view, with a stated precedence.

Sources are trusted in `PRECEDENCE` order; a few facts have their own order, where another
source is the authority (the registry's view of a network, the live DNS's name servers).
Each source's own view stays in its `SourceResult`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from enrichment.model import SourceResult, Status

PRECEDENCE = ("dns", "rdap", "whois", "domaintools", "asn", "internetdb", "crtsh", "mnemonic")
BY_FACT: Mapping[str, tuple[str, ...]] = {
    "asn": ("asn", "rdap", "whois"),
    "network": ("rdap", "whois", "asn"),
    "country": ("rdap", "whois", "asn"),
    "name_servers": ("dns", "rdap", "whois"),
}


def _order(names: list[str], fact: str) -> list[str]:
    preferred = BY_FACT.get(fact, PRECEDENCE)
    rank = {name: i for i, name in enumerate(preferred)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def _tidy(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        try:
            return sorted(items)
        except TypeError:
            return items
    return value


def merge_facts(results: Mapping[str, SourceResult]) -> dict[str, Any]:
    good = [name for name, r in results.items() if r.status is Status.OK]
    keys = {key for name in good for key in results[name].facts}
    merged: dict[str, Any] = {}
    for key in sorted(keys):
        for name in _order(good, key):
            value = results[name].facts.get(key)
            if value is not None and value != [] and value != "":
                merged[key] = _tidy(value)
                break
    return merged
