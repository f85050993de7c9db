"""Cards as terminal text, for `python -m bot pivot X` without --json or --blocks."""

from __future__ import annotations

from typing import Any

from enrichment.model import PivotPage, Report, Status


def _clean(value: Any) -> str:
    """One line of terminal-safe text: no control characters from outside data."""
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    text = str(value)
    return "".join(c if c.isprintable() else " " for c in text)[:300]


def report_text(report: Report) -> str:
    ind = report.indicator
    lines = [f"{ind.defanged}  ({ind.kind.value})"]
    score = report.risk.score
    lines.append(f"  risk: {score if score is not None else 'not scored'}")
    for reason in report.risk.reasons:
        lines.append(f"    +{reason.points} {reason.code}: {_clean(reason.detail)}")
    for key, value in report.facts.items():
        lines.append(f"  {key}: {_clean(value)}")
    asked = [
        f"{r.name} {r.status.value}" + (f" ({_clean(r.detail)})" if r.detail else "")
        for r in report.results.values()
        if r.status is not Status.SKIPPED
    ]
    lines.append("  sources: " + (", ".join(asked) or "none applied"))
    if report.pivots:
        offers = [
            f"{p.id}" + (f" ({p.count})" if p.count is not None else "") for p in report.pivots
        ]
        lines.append("  pivots: " + ", ".join(offers))
    return "\n".join(lines)


def page_text(page: PivotPage) -> str:
    lines = [f"{page.pivot} on {page.subject.defanged}: {page.total} result(s), page {page.page}"]
    lines += [f"  {item.indicator.defanged}  ({item.indicator.kind.value})" for item in page.items]
    if page.text:
        lines.append("\n".join(_clean(line) for line in page.text.splitlines()))
    for name, source in page.sources.items():
        if source.status is not Status.OK:
            lines.append(f"  {name}: {source.status.value} {_clean(source.detail or '')}")
    return "\n".join(lines)
