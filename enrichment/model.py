"""Value objects shared by every part of enrichment: indicators, statuses, results, reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    DOMAIN = "domain"
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    CIDR = "cidr"
    URL = "url"
    EMAIL = "email"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator: `value` is canonical (refanged), `defanged` is safe to post."""

    kind: Kind
    value: str
    defanged: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind.value, "value": self.value, "defanged": self.defanged}


class Status(StrEnum):
    OK = "ok"
    EMPTY = "empty"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Finding:
    """What a source found. Empty `facts` means the source was asked and knows nothing.

    `raw` keeps the upstream text where a button can show it (raw WHOIS); `ttl` overrides the
    source's cache lifetime (DNS uses the records' own TTL).
    """

    facts: Mapping[str, Any] = field(default_factory=dict)
    detail: str | None = None
    raw: str | None = None
    ttl: float | None = None


@dataclass(frozen=True, slots=True)
class SourceResult:
    name: str
    status: Status
    facts: Mapping[str, Any] = field(default_factory=dict)
    detail: str | None = None
    elapsed_ms: int = 0
    raw: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "detail": self.detail, "elapsed_ms": self.elapsed_ms}


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    points: int
    detail: str
    source: str | None = None  # who provided the evidence ("urlhaus", "index", "dga")
    fresh: str | None = None  # how fresh the evidence is (an ISO date), when known

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "points": self.points, "detail": self.detail}
        out |= {k: v for k, v in (("source", self.source), ("fresh", self.fresh)) if v}
        return out


@dataclass(frozen=True, slots=True)
class Risk:
    """Risk 0-100, the highest of its components, with the reasons behind it (the winning one
    first); `score` is None when nothing could be judged."""

    score: int | None = None
    reasons: tuple[Reason, ...] = ()

    @property
    def band(self) -> str | None:
        """100 listed as malicious, 70-99 likely malicious, 40-69 suspicious, below: low."""
        if self.score is None:
            return None
        for floor, name in ((100, "malicious"), (70, "likely malicious"), (40, "suspicious")):
            if self.score >= floor:
                return name
        return "low"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"score": self.score, "reasons": [r.to_json() for r in self.reasons]}
        if self.band:
            out["band"] = self.band
        return out

    @classmethod
    def from_json(cls, data: Any) -> Risk:
        """The Risk `to_json` wrote (the band is derived, so not read); ValueError otherwise."""
        if not isinstance(data, dict) or not isinstance(data.get("reasons"), list):
            raise ValueError("not a risk")
        score = data.get("score")
        if score is not None and (type(score) is not int or not 0 <= score <= 100):
            raise ValueError("not a risk score")
        return cls(score, tuple(_reason(r) for r in data["reasons"]))


def _reason(data: Any) -> Reason:
    if not isinstance(data, dict):
        raise ValueError("not a reason")
    code, points, detail = data.get("code"), data.get("points"), data.get("detail")
    source, fresh = data.get("source"), data.get("fresh")
    if not (isinstance(code, str) and isinstance(detail, str) and type(points) is int):
        raise ValueError("not a reason")
    if not all(o is None or isinstance(o, str) for o in (source, fresh)):
        raise ValueError("not a reason")
    return Reason(code, points, detail, source, fresh)


@dataclass(frozen=True, slots=True)
class PivotOffer:
    """A pivot a card offers: run pivot `id` on `target`; `count` when known beforehand."""

    id: str
    label: str
    target: str
    count: int | None = None
    costs: str | None = None  # the keyed provider whose quota pressing it would spend

    def to_json(self) -> dict[str, Any]:
        out = {"id": self.id, "label": self.label, "target": self.target, "count": self.count}
        return out | ({"costs": self.costs} if self.costs else {})


@dataclass(frozen=True, slots=True)
class Report:
    indicator: Indicator
    results: Mapping[str, SourceResult]
    facts: Mapping[str, Any]
    risk: Risk = Risk()
    pivots: tuple[PivotOffer, ...] = ()

    def failed(self) -> list[SourceResult]:
        bad = (Status.TIMEOUT, Status.RATE_LIMITED, Status.ERROR)
        return [r for r in self.results.values() if r.status in bad]

    def raw(self, source: str) -> str | None:
        result = self.results.get(source)
        return result.raw if result else None

    def to_json(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator.to_json(),
            "risk": self.risk.to_json(),
            "facts": dict(self.facts),
            "sources": {name: r.to_json() for name, r in sorted(self.results.items())},
            "pivots": [p.to_json() for p in self.pivots],
        }


@dataclass(frozen=True, slots=True)
class PivotItem:
    indicator: Indicator
    score: int | None = None
    first_seen: str | None = None
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.indicator.to_json(),
            "score": self.score,
            "first_seen": self.first_seen,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class PivotPage:
    """One page of a pivot's results. `total` is None when the source cannot count."""

    pivot: str
    subject: Indicator
    items: tuple[PivotItem, ...]
    total: int | None
    page: int = 1
    page_size: int = 25
    sources: Mapping[str, SourceResult] = field(default_factory=dict)
    text: str | None = None  # for pivots whose answer is a document (raw WHOIS)
    label: str = ""  # how a card names the pivot ("PTR names"); the id when empty
    target: str | None = None  # what it ran on, when not the subject (a registrant e-mail)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pivot": self.pivot,
            "subject": self.subject.to_json(),
            "total": self.total,
            "page": self.page,
            "items": [i.to_json() for i in self.items],
            "sources": {name: r.to_json() for name, r in sorted(self.sources.items())},
        }
        if self.text is not None:
            out["text"] = self.text
        if self.target is not None:
            out["target"] = self.target
        return out
