"""Cards as terminal text, for `python -m bot pivot X` without --json or --blocks.

Defanged like the cards (every host-like dot broken, schemes fanged), one fact a line, lists
joined, records spelled out; terminal control characters from outside data dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.render.escape import clean, defang_text
from bot.render.risk import headline, points, provenance
from bot.render.states import (
    FAILED,
    NOT_REGISTERED,
    UNREACHABLE,
    age_words,
    all_failed,
    failure_reason,
    not_registered,
    unicode_form,
)
from enrichment.model import PivotPage, Report, Risk, SourceResult, Status

WIDTH = 14  # the label column


def plain(value: Any, limit: int = 300) -> str:
    """Outside data as one defanged line of terminal-safe text."""
    if isinstance(value, Mapping):
        value = ", ".join(f"{k} {plain(v)}" for k, v in value.items())
    elif isinstance(value, list | tuple):
        value = ", ".join(plain(v) for v in value)
    elif isinstance(value, bool):
        value = "yes" if value else "no"
    return defang_text(clean(str(value)))[:limit]


def _row(name: str, value: str) -> str:
    return f"  {name:<{WIDTH}}{value}"


def _fact_rows(facts: Mapping[str, Any]) -> list[str]:
    rows = []
    for key, value in facts.items():
        shown = plain(value)
        if key == "created" and (age := age_words(value)):
            shown += f" ({age})"
        rows.append(_row(key.replace("_", " "), shown))
    return rows


def _sources(results: Mapping[str, SourceResult]) -> str:
    parts = []
    for name, result in sorted(results.items()):
        if result.status is Status.SKIPPED:
            continue
        said = failure_reason(result) if result.status in FAILED else result.status.value
        parts.append(f"{name} {said}")
    return ", ".join(parts) or "none applied"


def _risk_rows(risk: Risk) -> list[str]:
    """The card's risk line, then its breakdown (a terminal has no button to press)."""
    line = headline(risk)
    if line is None:
        return []
    rows = [_row("risk", line.head + (f" · {plain(line.reason)}" if line.reason else ""))]
    for reason in risk.reasons:
        said = f"{points(reason)}: {plain(reason.detail or reason.code)}"
        rows.append(_row("", f"  {said} ({plain(provenance(reason))})"))
    return rows


def _head_rows(report: Report) -> list[str]:
    """The IDN's other spelling, the risk, and the verdict, where there are any."""
    rows = []
    if (shown := unicode_form(report.indicator)) is not None:
        rows.append(_row("looks like", f"{plain(shown)}  (Unicode spelling of an IDN)"))
    rows += _risk_rows(report.risk)
    if not_registered(report):
        rows.append(_row("", NOT_REGISTERED))
    return rows


def report_text(report: Report) -> str:
    ind = report.indicator
    lines = [f"{ind.defanged}  ({ind.kind.value})", *_head_rows(report)]
    lines += _fact_rows(report.facts)
    if all_failed(report.results) and not report.facts:
        lines.append(_row("sources", UNREACHABLE))
    else:
        lines.append(_row("sources", _sources(report.results)))
    if report.pivots:
        offers = [p.id + (f" ({p.count})" if p.count is not None else "") for p in report.pivots]
        lines.append(_row("pivots", ", ".join(offers)))
    return "\n".join(lines)


def page_text(page: PivotPage) -> str:
    total = "?" if page.total is None else page.total
    title = f"{page.label or page.pivot} on {page.subject.defanged}"
    lines = [f"{title}: {total} result(s), page {page.page}"]
    lines += [f"  {item.indicator.defanged}  ({item.indicator.kind.value})" for item in page.items]
    if page.text:
        lines += [defang_text(clean(line)) for line in page.text.splitlines()]
    failed = [r for r in page.sources.values() if r.status in FAILED]
    lines += [_row(r.name, failure_reason(r)) for r in failed]
    return "\n".join(lines)
