"""Exports of a card or a pivot's results: CSV for spreadsheets, STIX 2.1 for TIPs.

The CSV holds the defanged form of every value: a file posted in Slack must not make an
indicator clickable, and `python -m bot extract` (or any refanger) turns a column back. STIX
carries the real values, as STIX must, inside patterns: the bundle is posted as a JSON file,
which Slack shows as code, never as links. Built with the stix2 library.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime

import stix2

from enrichment.model import Indicator, Kind, PivotItem, Report

CSV_COLUMNS = ("indicator", "kind", "score", "first_seen", "source")
_PATTERN = {
    Kind.DOMAIN: "domain-name:value",
    Kind.IPV4: "ipv4-addr:value",
    Kind.IPV6: "ipv6-addr:value",
    Kind.URL: "url:value",
    Kind.EMAIL: "email-addr:value",
    Kind.MD5: "file:hashes.'MD5'",
    Kind.SHA1: "file:hashes.'SHA-1'",
    Kind.SHA256: "file:hashes.'SHA-256'",
}


def csv_text(items: Sequence[PivotItem]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        score = "" if item.score is None else item.score
        writer.writerow(
            [
                item.indicator.defanged,
                item.indicator.kind.value,
                score,
                item.first_seen or "",
                item.source or "",
            ]
        )
    return out.getvalue()


def pattern(indicator: Indicator) -> str:
    """The STIX pattern matching `indicator` (a network as its address type's CIDR value)."""
    if indicator.kind is Kind.CIDR:
        field = "ipv6-addr:value" if ":" in indicator.value else "ipv4-addr:value"
    else:
        field = _PATTERN[indicator.kind]
    quoted = indicator.value.replace("\\", "\\\\").replace("'", "\\'")
    return f"[{field} = '{quoted}']"


def _stix_indicator(indicator: Indicator, now: datetime, labels: list[str]) -> stix2.Indicator:
    return stix2.Indicator(
        name=indicator.defanged,
        pattern=pattern(indicator),
        pattern_type="stix",
        valid_from=now,
        labels=labels or None,
        allow_custom=False,
    )


def stix_bundle(title: str, indicators: Sequence[Indicator], report: Report | None = None) -> str:
    """A STIX 2.1 bundle: one Indicator per value, grouped under `title`; a card's report adds
    its risk reasons as labels of its own indicator."""
    now = datetime.now(UTC)
    objects = []
    for indicator in indicators:
        labels = []
        if report is not None and indicator == report.indicator:
            labels = sorted({r.code for r in report.risk.reasons})
        objects.append(_stix_indicator(indicator, now, labels))
    if not objects:
        return stix2.Bundle(allow_custom=False).serialize(pretty=True)  # type: ignore[no-any-return]
    grouping = stix2.Grouping(
        name=title, context="suspicious-activity", object_refs=[o.id for o in objects]
    )
    return stix2.Bundle(*objects, grouping).serialize(pretty=True)  # type: ignore[no-any-return]
