"""What the pivot index holds, and the interface every backend implements.

The index is the team's own memory: observations (a subject's relation to an object, with
who said so and when), threat-feed listings, and sightings (where an indicator was seen in
Slack). Enrichment writes observations as it learns them; feeds replace their listings;
imports load a team's passive-DNS or WHOIS exports; reverse pivots read it.

Times are Unix seconds (float, UTC). Values are canonical indicator values (lower-case
domains, compressed IPv6, ...): the index never canonicalises, its callers do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Relation(StrEnum):
    """subject --relation--> object."""

    A = "a"  # domain -> IPv4
    AAAA = "aaaa"  # domain -> IPv6
    NS = "ns"  # domain -> name server host
    MX = "mx"  # domain -> mail host
    CNAME = "cname"  # name -> canonical name
    REGISTRANT_EMAIL = "registrant_email"  # domain -> e-mail
    REGISTRANT_NAME = "registrant_name"  # domain -> person
    REGISTRANT_ORG = "registrant_org"  # domain -> organisation
    REGISTRAR = "registrar"  # domain -> registrar name
    REGISTERED_DOMAIN = "registered_domain"  # subdomain -> its registrable domain
    HOST = "host"  # URL -> host (domain or IP)
    NETWORK = "network"  # IP -> CIDR of the network holding it


@dataclass(frozen=True, slots=True)
class Observation:
    subject: str
    subject_kind: str  # an enrichment.model.Kind value
    relation: Relation
    object: str
    object_kind: str  # a Kind value, or "text" for names, organisations, registrars
    source: str  # who said so: "dns", "rdap", "whois", "mnemonic", "import", ...
    first_seen: float
    last_seen: float
    times_seen: int = 1


@dataclass(frozen=True, slots=True)
class Listing:
    """A threat feed lists `value` (an indicator, or a CIDR for network feeds)."""

    feed: str  # "urlhaus", "threatfox", "feodo", "openphish", "spamhaus_drop"
    value: str
    kind: str  # a Kind value
    threat: str | None = None  # malware family or threat type, as the feed names it
    first_seen: float | None = None
    reference: str | None = None  # the feed's own page about it


@dataclass(frozen=True, slots=True)
class Sighting:
    """Where an indicator was seen in Slack."""

    value: str
    kind: str
    team: str
    channel: str
    user: str
    message_ts: str
    at: float
    channel_name: str | None = None
    link: str | None = None  # a permalink, when known


@dataclass(frozen=True, slots=True)
class Sightings:
    count: int  # how many times in all
    recent: tuple[Sighting, ...]  # the latest first


class Index(Protocol):
    """The pivot index. Every method may raise `enrichment.stores.StoreError` when the
    storage cannot be used; callers decide whether that costs a card or only a line."""

    async def record(self, observations: Sequence[Observation]) -> None:
        """Upsert: an observation already held (subject, relation, object) keeps the earliest
        first_seen and the latest last_seen, times_seen adds up, the latest source wins."""

    async def reverse(
        self, relation: Relation, obj: str, *, offset: int = 0, limit: int = 25
    ) -> list[Observation]:
        """Subjects with `relation` to `obj`, most recently seen first (then by subject)."""

    async def count(self, relation: Relation, obj: str) -> int:
        """How many subjects `reverse` would page through."""

    async def forward(
        self, subject: str, relation: Relation | None = None, *, limit: int = 100
    ) -> list[Observation]:
        """What `subject` relates to (its history: every IP it resolved to), newest first."""

    async def neighbours(self, ip: str, *, offset: int = 0, limit: int = 25) -> list[Observation]:
        """A/AAAA observations of other addresses in `ip`'s /24 (IPv4) or /64 (IPv6): the
        names hosted next door. Newest first."""

    async def count_neighbours(self, ip: str) -> int: ...

    async def replace_listings(self, feed: str, listings: Sequence[Listing]) -> None:
        """Swap in a feed's whole list at once (readers see the old or the new, never half)."""

    async def listings(self, values: Sequence[str]) -> list[Listing]:
        """Every listing of any of `values` (exact match), of URLs whose host is one of
        `values` (a domain's card finds the URLs it serves), and of networks holding any
        value that is an IP address."""

    async def feed_sizes(self) -> dict[str, int]:
        """How many listings each feed holds now."""

    async def record_sighting(self, sighting: Sighting) -> None: ...

    async def sightings(self, value: str, *, limit: int = 5) -> Sightings: ...

    async def aclose(self) -> None: ...
