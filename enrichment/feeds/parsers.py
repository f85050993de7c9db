"""Threat-feed files -> listings. Pure functions over the downloaded text.

Each parser reads one publisher's format, by column or key name (publishers add columns),
validates every value as an indicator (`enrichment.indicators.make_indicator`: canonical
values, so a listing matches what extraction finds), and counts what it had to skip.
Nothing here raises on a malformed line; a file that is not the format at all gives no
listings and a `FeedFormatError`, so the refresher keeps the previous data.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from enrichment.errors import InvalidInput, PivotError
from enrichment.index.model import Listing
from enrichment.indicators import make_indicator
from enrichment.model import Kind
from enrichment.text import one_line

MAX_ITEMS = 2_000_000  # far above any of these feeds; bounds memory on a hostile file


class FeedFormatError(PivotError):
    """The file is not the feed's format at all (an HTML error page, an empty body)."""


@dataclass
class Parsed:
    listings: list[Listing] = field(default_factory=list)
    malformed: int = 0  # lines or records skipped

    def add(self, listing: Listing | None) -> None:
        if listing is None:
            self.malformed += 1
        elif len(self.listings) < MAX_ITEMS:
            self.listings.append(listing)


def _time(value: Any) -> float | None:
    """`2026-12-05 06:41:42` (UTC, as abuse.ch writes it) or ISO 8601 -> Unix seconds."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" UTC", "").replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _text(value: Any, limit: int = 120) -> str | None:
    return one_line(value, limit) or None if isinstance(value, str) else None


def listing(feed: str, kind: Kind, value: Any, **extra: Any) -> Listing | None:
    """A listing when `value` is a valid `kind`, else None (counted as malformed)."""
    if not isinstance(value, str):
        return None
    try:
        indicator = make_indicator(kind, value.strip())
    except InvalidInput:
        return None
    return Listing(feed, indicator.value, indicator.kind.value, **extra)


# -- URLhaus: CSV with a commented header line ----------------------------------------------


def _csv_rows(text: str) -> Iterator[dict[str, str]]:
    """Rows of a CSV whose header is the last `#` comment line before the data."""
    lines = text.splitlines()
    header = [ln.lstrip("#").strip() for ln in lines if ln.startswith("#") and "," in ln]
    if not header:
        raise FeedFormatError("no header line")
    names = next(csv.reader([header[-1]]))
    data = (ln for ln in lines if ln.strip() and not ln.startswith("#"))
    for row in csv.reader(data):
        yield dict(zip(names, row, strict=False)) if len(row) == len(names) else {}


def parse_urlhaus(text: str) -> Parsed:
    out = Parsed()
    for row in _csv_rows(text):
        out.add(
            listing(
                "urlhaus",
                Kind.URL,
                row.get("url"),
                threat=_text(row.get("threat")),
                first_seen=_time(row.get("dateadded")),
                reference=_text(row.get("urlhaus_link"), 300),
            )
        )
    return out


# -- ThreatFox: JSON export, {"<id>": [{"ioc_value", "ioc_type", ...}], ...} ---------------

_THREATFOX_KINDS: dict[str, Kind] = {
    "domain": Kind.DOMAIN,
    "url": Kind.URL,
    "md5_hash": Kind.MD5,
    "sha1_hash": Kind.SHA1,
    "sha256_hash": Kind.SHA256,
}


def _threatfox_value(record: dict[str, Any]) -> tuple[Kind, Any] | None:
    ioc_type = record.get("ioc_type")
    value = record.get("ioc_value", record.get("ioc"))
    if ioc_type == "ip:port" and isinstance(value, str):
        address = _without_port(value.strip())
        return (Kind.IPV6 if ":" in address else Kind.IPV4), address
    kind = _THREATFOX_KINDS.get(str(ioc_type))
    return (kind, value) if kind else None


def _without_port(value: str) -> str:
    """`1.2.3.4:443` -> `1.2.3.4`, `[2a01::2]:443` -> `2a01::2`; a bare IPv6 stays whole."""
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rpartition(":")[0] if value.count(":") == 1 else value


def _threatfox_listing(record: Any) -> Listing | None:
    if not isinstance(record, dict):
        return None
    found = _threatfox_value(record)
    if found is None:
        return None
    threat = record.get("malware_printable") or record.get("threat_type")
    return listing(
        "threatfox",
        found[0],
        found[1],
        threat=_text(threat),
        first_seen=_time(record.get("first_seen_utc") or record.get("first_seen")),
        reference=_text(record.get("reference"), 300),
    )


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FeedFormatError("not JSON") from exc


def parse_threatfox(text: str) -> Parsed:
    doc = _json(text)
    if not isinstance(doc, dict):
        raise FeedFormatError("not the export's object of IOC lists")
    out = Parsed()
    for records in doc.values():
        for record in records if isinstance(records, list) else [None]:
            out.add(_threatfox_listing(record))
    return out


# -- Feodo Tracker: JSON list of {"ip_address", "malware", "first_seen", ...} --------------


def parse_feodo(text: str) -> Parsed:
    doc = _json(text)
    if not isinstance(doc, list):
        raise FeedFormatError("not a list of C2 servers")
    out = Parsed()
    for record in doc:
        item = record if isinstance(record, dict) else {}
        address = item.get("ip_address")
        kind = Kind.IPV6 if isinstance(address, str) and ":" in address else Kind.IPV4
        out.add(
            listing(
                "feodo",
                kind,
                address,
                threat=_text(item.get("malware")),
                first_seen=_time(item.get("first_seen")),
                reference="https://feodotracker.abuse.ch/browse/host/" + str(address)
                if isinstance(address, str)
                else None,
            )
        )
    return out


# -- OpenPhish: one URL a line ---------------------------------------------------------------


def parse_openphish(text: str) -> Parsed:
    if text.lstrip().startswith("<"):
        raise FeedFormatError("an HTML page, not the URL list")
    out = Parsed()
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            out.add(listing("openphish", Kind.URL, line.strip(), threat="phishing"))
    return out


# -- Spamhaus DROP: JSON lines {"cidr", "sblid", "rir"}, a metadata line last ---------------


def _drop_line(line: str) -> Listing | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or "cidr" not in record:
        return None
    sblid = _text(record.get("sblid"), 40)
    reference = f"https://check.spamhaus.org/sbl/query/{sblid}" if sblid else None
    return listing("spamhaus_drop", Kind.CIDR, record["cidr"], threat="DROP", reference=reference)


def parse_spamhaus_drop(text: str) -> Parsed:
    out = Parsed()
    for line in text.splitlines():
        if not line.strip() or ('"type"' in line and '"metadata"' in line):
            continue
        out.add(_drop_line(line))
    if not out.listings and out.malformed:
        raise FeedFormatError("no DROP entries")
    return out


PARSERS: dict[str, Callable[[str], Parsed]] = {
    "urlhaus": parse_urlhaus,
    "threatfox": parse_threatfox,
    "feodo": parse_feodo,
    "openphish": parse_openphish,
    "spamhaus_drop": parse_spamhaus_drop,
}
