"""The registry: every source Pivot knows. Adding a source is one module and one line here."""

from __future__ import annotations

from enrichment.sources.asn import AsnSource
from enrichment.sources.base import Context, Source
from enrichment.sources.crtsh import CrtshSource
from enrichment.sources.dns import DnsSource
from enrichment.sources.domaintools import DomainToolsSource
from enrichment.sources.feeds import FeedsSource
from enrichment.sources.index import IndexSource
from enrichment.sources.internetdb import InternetDbSource
from enrichment.sources.mnemonic import MnemonicSource
from enrichment.sources.rdap import RdapSource
from enrichment.sources.whois import WhoisSource

REGISTRY: tuple[type[Source], ...] = (
    DnsSource,
    AsnSource,
    RdapSource,
    WhoisSource,
    InternetDbSource,
    CrtshSource,
    MnemonicSource,
    DomainToolsSource,
    FeedsSource,
    IndexSource,
)

# Names DESIGN.md reserves for sources still to come: their PIVOT_<NAME>_URL is not a typo.
PLANNED: tuple[str, ...] = ()

__all__ = ["PLANNED", "REGISTRY", "Context", "Source", "by_name"]


def by_name() -> dict[str, type[Source]]:
    return {source.name: source for source in REGISTRY}
