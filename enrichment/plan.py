"""Which sources a card asks, in which wave, and why the others are skipped.

Pure decisions over the registry, the settings and the indicator; `enrichment.service` runs
what they say. Privacy is decided once per card (`enrichment.privacy.internal_reason`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from enrichment.errors import ConfigError
from enrichment.model import Indicator, SourceResult, Status
from enrichment.settings import Settings
from enrichment.sources import PLANNED, Source


def check_names(known: set[str], settings: Settings) -> None:
    """A name in PIVOT_SOURCES or PIVOT_<X>_URL that is no source's is a ConfigError: a typo
    must not quietly send queries to the default."""
    unknown = sorted(set(settings.sources or ()) - known)
    if unknown:
        raise ConfigError(
            f"PIVOT_SOURCES names no source called {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    stray = sorted(set(settings.source_urls) - known - set(PLANNED))
    if stray:
        names = ", ".join(f"PIVOT_{name.upper()}_URL" for name in stray)
        raise ConfigError(f"unknown variable {names}: no source has that name")


def _off_reason(cls: type[Source], settings: Settings) -> str | None:
    if settings.sources is not None and cls.name not in settings.sources:
        return "not enabled"
    if not cls.configured(settings):
        return f"needs {', '.join(k.upper() for k in cls.keys)}"
    return None


def unavailable(registry: Iterable[type[Source]], settings: Settings) -> dict[str, str]:
    """Source name -> why it is off (not enabled, or a key it needs is missing)."""
    classes = list(registry)
    check_names({cls.name for cls in classes}, settings)
    reasons = {cls.name: _off_reason(cls, settings) for cls in classes}
    return {name: why for name, why in reasons.items() if why}


@dataclass
class Plan:
    """`now` runs first; `later` are fallbacks, run only when their primary did not answer;
    `via_address` run on the address the first wave found (see `Source.via_address`)."""

    now: list[Source] = field(default_factory=list)
    later: list[Source] = field(default_factory=list)
    via_address: list[Source] = field(default_factory=list)
    skipped: dict[str, SourceResult] = field(default_factory=dict)

    def fallbacks(self, target: Indicator, results: Mapping[str, SourceResult]) -> list[Source]:
        """The fallbacks still needed; the rest are recorded as skipped."""
        needed = []
        for source in self.later:
            primary = results.get(source.fallback_of[target.kind])
            if primary is None or primary.status is not Status.OK:
                needed.append(source)
            else:
                self.skipped[source.name] = skipped(source.name, "not needed: primary answered")
        return needed


def skipped(name: str, why: str) -> SourceResult:
    return SourceResult(name, Status.SKIPPED, detail=why)


def _skip_reason(
    source: Source, target: Indicator, private: str | None, wanted: bool
) -> str | None:
    if not source.accepts(target) and target.kind not in source.via_address:
        return f"not for {target.kind.value}"
    if not (source.auto or wanted):
        return "on request only"
    if source.third_party and private:
        return f"kept internal: {private}"
    return None


def plan(
    sources: Mapping[str, Source],
    off: Mapping[str, str],
    target: Indicator,
    private: str | None,
    *,
    explicit: bool,
    extra: set[str],
) -> Plan:
    """Every source in order: skipped with its reason, or in the first or fallback wave.
    `explicit`: PIVOT_SOURCES named the sources, so on-request ones run too."""
    out = Plan()
    for name, off_why in off.items():
        out.skipped[name] = skipped(name, off_why)
    for name, source in sources.items():
        why = _skip_reason(source, target, private, explicit or name in extra)
        if why:
            out.skipped[name] = skipped(name, why)
        elif not source.accepts(target):
            out.via_address.append(source)
        elif target.kind in source.fallback_of and name not in extra:
            out.later.append(source)
        else:
            out.now.append(source)
    return out
