"""What a card says about how the lookup went: honest about failures, silence and absence.

A card never promises what will not come (no "not scored yet"), never shows "no answer yet"
once every source has answered or failed, names each failed source with its short reason, says
once that the sources look unreachable when all of them failed, and says a domain is not
registered only when every registration source and DNS agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import idna

from bot.render.escape import Safe, fit, label
from enrichment.model import Indicator, Kind, Report, SourceResult, Status

FAILED = (Status.TIMEOUT, Status.RATE_LIMITED, Status.ERROR)
UNREACHABLE = "Every source failed: they look unreachable from here (offline?)."
NOT_REGISTERED = "Not registered: no RDAP or WHOIS record, and DNS says NXDOMAIN."
_REGISTRATION = ("rdap", "whois")


def asked(results: Mapping[str, SourceResult]) -> list[SourceResult]:
    """The sources that were asked (not skipped), by name."""
    return [r for _, r in sorted(results.items()) if r.status is not Status.SKIPPED]


def all_failed(results: Mapping[str, SourceResult]) -> bool:
    tried = asked(results)
    return bool(tried) and all(r.status in FAILED for r in tried)


def failure_reason(result: SourceResult) -> str:
    """`timeout after 3 s`, `error (HTTP 500)`, `rate limited (...)`: short, our words first."""
    detail = (result.detail or "").strip()
    if result.status is Status.TIMEOUT:
        if detail.startswith("no answer in "):
            return "timeout after " + detail.removeprefix("no answer in ")
        return "timeout (the card's deadline)" if "deadline" in detail else "timeout"
    words = result.status.value.replace("_", " ")
    return f"{words} ({detail[:60]})" if detail else words


def status_line(results: Mapping[str, SourceResult], *, said: bool = False) -> Safe:
    """The footer: each failed source with its reason (or one line when all failed, unless
    the card `said` so already), and how long the card took."""
    if all_failed(results) and len(asked(results)) > 1:
        parts = [] if said else [label(UNREACHABLE)]
    else:
        parts = [
            Safe(f"{fit(r.name, 40)}: {fit(failure_reason(r), 80, defang=False)}")
            for r in asked(results)
            if r.status in FAILED
        ]
    elapsed = max((r.elapsed_ms for r in results.values()), default=0)
    if elapsed:
        parts.append(Safe(f"{elapsed / 1000:.1f} s"))
    return Safe(" · ".join(parts))


def not_registered(report: Report) -> bool:
    """True for a domain no registration source knows and DNS calls NXDOMAIN."""
    if report.indicator.kind is not Kind.DOMAIN:
        return False
    results = report.results
    registration = [results[n] for n in _REGISTRATION if n in results]
    dns = results.get("dns")
    said_nothing = [r for r in registration if r.status is Status.EMPTY]
    nxdomain = dns is not None and (dns.detail or "").startswith("NXDOMAIN")
    return bool(said_nothing) and len(said_nothing) == len(asked_of(registration)) and nxdomain


def asked_of(results: list[SourceResult]) -> list[SourceResult]:
    return [r for r in results if r.status is not Status.SKIPPED]


def verdict(report: Report) -> Safe | None:
    """One line above the facts when the answer is an absence or a total failure."""
    if not_registered(report):
        return label(NOT_REGISTERED)
    if all_failed(report.results) and len(asked(report.results)) > 1 and not report.facts:
        return label(UNREACHABLE)
    return None


def summary_outcome(report: Report) -> Safe | None:
    """For a summary line with no facts to show: what became of the lookup."""
    if not_registered(report):
        return Safe("_not registered_")
    if all_failed(report.results):
        return Safe("_no source answered_")
    if not asked(report.results):
        return Safe("_no source for this kind_")
    return Safe("_nothing known_")


def age_words(created: object, today: date | None = None) -> str | None:
    """'12 days old', '3 years old' for an ISO date; None when unreadable or in the future."""
    try:
        day = date.fromisoformat(str(created)[:10])
    except ValueError:
        return None
    days = ((today or date.today()) - day).days
    if days < 0:
        return None
    if days < 2 * 365:
        return f"{days} day{'s' if days != 1 else ''} old"
    return f"{days // 365} years old"


def unicode_form(indicator: Indicator) -> str | None:
    """The Unicode spelling of an IDN (or of a URL's or e-mail's IDN host) when the card shows
    punycode, so a homoglyph is visible next to the form that is safe to copy."""
    host = indicator.value.rpartition("@")[2] if indicator.kind is Kind.EMAIL else indicator.value
    if indicator.kind not in (Kind.DOMAIN, Kind.EMAIL) or "xn--" not in host:
        return None
    try:
        shown = idna.decode(host)
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    return shown if shown != host else None
