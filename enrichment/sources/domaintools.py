"""DomainTools: registration, hosting and risk intelligence, and the reverse pivots behind them.

Kinds: domain (domain profile, parsed WHOIS, risk score with its components, and how many
domains share its IP and its name servers), ipv4 and ipv6 (how many domains the address
hosts). Reverse lookups: `reverse_ip` (host-domains), `same_ns` (name-server-domains) and
`reverse_whois_email` / `_name` / `_org` (reverse WHOIS: a quote when only the count is asked
for, a purchase otherwise). Keys: DOMAINTOOLS_USERNAME and DOMAINTOOLS_API_KEY (Settings
`domaintools_username`, `domaintools_api_key`). Base URL from PIVOT_DOMAINTOOLS_URL, default
https://api.domaintools.com.

Requests are signed, never carry the key (`enrichment.domaintools.client`); the facts are
described in `enrichment.domaintools.parse`. The API pages reverse lookups with `limit` only,
so a page is a window onto the first offset + limit names (at most `MAX_WINDOW`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime

from enrichment.domaintools import parse
from enrichment.domaintools.client import Client, Credentials, Doc
from enrichment.errors import InvalidInput, NotConfigured, SourceError
from enrichment.indicators import registered_domain
from enrichment.model import Finding, Indicator, Kind
from enrichment.redaction import is_placeholder
from enrichment.sources.base import Context, Related, RelatedPage, Source, target_kind
from enrichment.text import one_line

DEFAULT_URL = "https://api.domaintools.com"
MAX_WINDOW = 10_000  # the deepest offset + limit a reverse lookup asks the API for
MAX_NAME_SERVERS = 2  # name servers whose domain counts a domain lookup asks for (quota)
PARTIAL_TTL = 3600.0  # an answer missing a part is cached for an hour, not a day
WHOIS_PIVOTS = frozenset({"reverse_whois_email", "reverse_whois_name", "reverse_whois_org"})

Names = Callable[[Doc], list[str]]
Total = Callable[[Doc], int | None]
# pivot -> (kinds it starts from, path under /v1/<value>, names, total)
LISTINGS: Mapping[str, tuple[frozenset[Kind], str, Names, Total]] = {
    "reverse_ip": (
        frozenset({Kind.IPV4, Kind.IPV6}),
        "host-domains",
        parse.hosted,
        parse.hosted_total,
    ),
    "same_ns": (
        frozenset({Kind.DOMAIN}),
        "name-server-domains",
        parse.served,
        parse.served_total,
    ),
}


def _page(names: list[str], offset: int, limit: int, total: int | None) -> RelatedPage:
    items = tuple(Related(name, Kind.DOMAIN) for name in names[offset : offset + limit])
    return RelatedPage(items, total if total is not None else len(names))


def _failures(parts: Mapping[str, object]) -> dict[str, SourceError]:
    """The parts that failed with our errors; anything else raised is a bug, and raised."""
    for part in parts.values():
        if isinstance(part, BaseException) and not isinstance(part, SourceError):
            raise part
    return {what: part for what, part in parts.items() if isinstance(part, SourceError)}


class DomainToolsSource(Source):
    name = "domaintools"
    kinds = frozenset({Kind.DOMAIN, Kind.IPV4, Kind.IPV6})
    ttl = 24 * 3600.0
    timeout = 8.0
    auto = True
    third_party = True
    keys = ("domaintools_username", "domaintools_api_key")
    per_registration = True
    reverse = frozenset({*LISTINGS, *WHOIS_PIVOTS})

    def __init__(self, ctx: Context, *, now: Callable[[], datetime] | None = None) -> None:
        super().__init__(ctx)
        self._now = now  # the wall clock requests are signed with (tests skew it)

    async def lookup(self, indicator: Indicator) -> Finding:
        client = self._client()
        if indicator.kind is Kind.DOMAIN:
            domain = registered_domain(indicator.value) or indicator.value
            return await self._domain(client, domain)
        answer = await client.get(f"/v1/{indicator.value}/host-domains", {"limit": "1"})
        hosted = parse.hosted_total(parse.as_dict(answer))
        if hosted is None:
            return Finding({}, detail="DomainTools knows no domains on this address")
        return Finding({"dt_ip_domains": {indicator.value: hosted}})

    async def reverse_lookup(
        self, pivot: str, target: str, *, offset: int, limit: int
    ) -> RelatedPage:
        offset, limit = max(0, offset), max(0, limit)
        if pivot in WHOIS_PIVOTS:
            return await self._reverse_whois(target, offset, limit)
        if pivot not in LISTINGS:
            return await super().reverse_lookup(pivot, target, offset=offset, limit=limit)
        kinds, endpoint, names, total = LISTINGS[pivot]
        kind = target_kind(target)
        if kind not in kinds:
            raise InvalidInput(f"{pivot} does not start from a {kind.value}")
        window = min(offset + limit, MAX_WINDOW)
        path = f"/v1/{target}/{endpoint}"
        answer = await self._client().get(path, {"limit": str(max(window, 1))}, big=True)
        doc = parse.as_dict(answer)
        return _page(names(doc)[:window], offset, limit, total(doc))

    # -- domains --------------------------------------------------------------------------

    async def _domain(self, client: Client, domain: str) -> Finding:
        asked = (
            client.get(f"/v1/{domain}"),
            client.get(f"/v1/{domain}/whois/parsed"),
            client.get("/v1/risk", {"domain": domain}),
        )
        profile, whois, risk = await asyncio.gather(*asked, return_exceptions=True)
        if isinstance(profile, BaseException):
            raise profile  # the profile is the answer; its failure is the source's
        failed = _failures({"WHOIS": whois, "risk": risk})
        facts = (
            parse.whois_facts(parse.as_dict(whois))
            | parse.profile_facts(parse.as_dict(profile))
            | parse.risk_facts(parse.as_dict(risk))
        )
        if not facts:
            return Finding({}, detail="DomainTools knows nothing about this domain")
        counts = await self._name_server_counts(client, facts.get("name_servers", []))
        if counts:
            facts["dt_ns_domains"] = counts
        if not failed:
            return Finding(facts)
        reasons = "; ".join(f"{what}: {exc}" for what, exc in failed.items())
        return Finding(facts, detail=f"partial answer ({reasons})", ttl=PARTIAL_TTL)

    async def _name_server_counts(self, client: Client, servers: list[str]) -> dict[str, int]:
        servers = servers[:MAX_NAME_SERVERS]
        asked = [client.get(f"/v1/{ns}/name-server-domains", {"limit": "1"}) for ns in servers]
        found = await asyncio.gather(*asked, return_exceptions=True)
        answers = dict(zip(servers, found, strict=True))
        _failures(answers)  # a count is a nicety: a failed one is left out, only bugs raise
        counts = {ns: parse.served_total(parse.as_dict(a)) for ns, a in answers.items()}
        return {ns: n for ns, n in counts.items() if n is not None}

    async def _reverse_whois(self, value: str, offset: int, limit: int) -> RelatedPage:
        terms = one_line(value, 200)
        if is_placeholder(terms) or "|" in terms:  # "|" separates terms in the API's syntax
            raise InvalidInput("a withheld or compound registrant value is not pivoted on")
        mode = "purchase" if limit else "quote"  # a quote counts without buying the report
        params = {"terms": terms, "scope": "current", "mode": mode}
        answer = await self._client().get("/v1/reverse-whois", params, big=bool(limit))
        doc = parse.as_dict(answer)
        names = parse.domains(doc.get("domains"), MAX_WINDOW)
        return _page(names, offset, limit, parse.whois_total(doc))

    def _client(self) -> Client:
        # getattr: these Settings fields arrive with the registry line (see `keys`)
        username = self.ctx.settings.domaintools_username
        key = self.ctx.settings.domaintools_api_key
        if not username or not key:
            raise NotConfigured("DOMAINTOOLS_USERNAME and DOMAINTOOLS_API_KEY are not set")
        base = self.ctx.settings.url_for(self.name, DEFAULT_URL)
        return Client(self.ctx.http, base, Credentials(str(username), str(key)), self._now)
