"""Bulk import into the pivot index: a team's passive-DNS or WHOIS export, as CSV or JSON lines.

Two shapes are understood, by their column (or key) names, never by position:

- Pivot's own: `subject`, `relation`, `object`, and optionally `source`, `first_seen`,
  `last_seen` (Unix seconds or ISO 8601), `times_seen`.
- Passive DNS in the Common Output Format (`rrname`, `rrtype`, `rdata`, `time_first`,
  `time_last`, `count`), as DNSDB, CIRCL and most passive-DNS exports write it.

The file is read twice: once whole (a file that cannot be read, decoded or recognised
anywhere imports nothing), then to check each row and record the good ones in batches. Bad
rows are counted, the first few reported with their line numbers, and skipped.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from enrichment.errors import InvalidInput, PivotError
from enrichment.index.model import Index, Observation, Relation
from enrichment.index.observe import FACT_RELATIONS
from enrichment.indicators import make_indicator
from enrichment.model import Kind
from enrichment.stores import StoreError
from enrichment.text import one_line

BATCH = 5_000
PROBLEMS = 10  # bad rows reported by line; the rest only counted
MAX_FIELD = 4_096  # longer cells are refused, not stored
MAX_TIMES = 10**15  # a passive-DNS count past this is a typo; sums stay far from 2**63

# relation -> (kinds its subject may be, kind of its object)
_SUBJECTS = {
    Relation.HOST: (Kind.URL,),
    Relation.NETWORK: (Kind.IPV4, Kind.IPV6),
}
_OBJECTS: dict[Relation, str] = {rel: kind for rel, kind in FACT_RELATIONS.values()}
_OBJECTS[Relation.REGISTERED_DOMAIN] = Kind.DOMAIN.value
_OBJECTS[Relation.HOST] = "host"  # a domain or an address
_RRTYPES = {"A": Relation.A, "AAAA": Relation.AAAA, "NS": Relation.NS, "MX": Relation.MX}
_RRTYPES["CNAME"] = Relation.CNAME
_HOSTS = (Kind.IPV4, Kind.IPV6, Kind.DOMAIN)


class UnreadableImport(PivotError):
    """The file as a whole cannot be imported: nothing from it was recorded."""


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0  # observations recorded (a COF row with three rdata gives three)
    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def skip(self, line: int, why: str) -> None:
        self.skipped += 1
        if len(self.problems) < PROBLEMS:
            self.problems.append(f"line {line}: {why}")


def _kind_value(kind: Kind | str, value: object) -> tuple[str, str]:
    """(kind, canonical value) of one cell, or InvalidInput."""
    text = str(value).strip()
    if kind == "text":
        plain = one_line(text, 256)
        if not plain:
            raise InvalidInput("empty value")
        return "text", plain
    kinds = _HOSTS if kind == "host" else (Kind(kind),)
    for candidate in kinds:
        try:
            return candidate.value, make_indicator(candidate, text.rstrip(".")).value
        except InvalidInput:
            continue
    raise InvalidInput(f"{one_line(text, 60)!r} is not a valid {kind if kind else 'value'}")


def _subject(relation: Relation, value: object) -> tuple[str, str]:
    for kind in _SUBJECTS.get(relation, (Kind.DOMAIN,)):
        try:
            return _kind_value(kind, value)
        except InvalidInput:
            continue
    raise InvalidInput(f"subject {one_line(str(value), 60)!r} does not fit {relation.value}")


def _when(value: object, default: float) -> float:
    if value in (None, ""):
        return default
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _finite(float(value))
    text = str(value).strip()
    try:
        return _finite(float(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{one_line(text, 40)!r} is not a time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _finite(seconds: float) -> float:
    """Unix seconds that a database can hold and compare: "nan" and "inf" parse as floats,
    and SQLite would store NaN as NULL."""
    if not math.isfinite(seconds):
        raise InvalidInput(f"{seconds} is not a time")
    return seconds


def _times(value: object) -> int:
    try:
        count = int(str(value).strip()) if value not in (None, "") else 1
    except ValueError:
        raise InvalidInput(f"times_seen {one_line(str(value), 20)!r} is not a number") from None
    if not 1 <= count <= MAX_TIMES:
        raise InvalidInput(f"times_seen must be from 1 to {MAX_TIMES}")
    return count


def _relation(name: object) -> Relation:
    try:
        return Relation(str(name).strip().lower())
    except ValueError:
        raise InvalidInput(f"unknown relation {one_line(str(name), 40)!r}") from None


def _rdata(relation: Relation, value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if relation is Relation.MX:  # "10 mail.example.com."
        return [str(v).split()[-1] for v in items if str(v).split()]
    return [str(v) for v in items]


def _triples(row: Mapping[str, Any]) -> tuple[Relation, object, list[object], str, str, str]:
    """(relation, subject, objects, first, last, count) keys of one row of either shape."""
    if "rrname" in row or "rrtype" in row:
        rrtype = str(row.get("rrtype", "")).upper()
        if rrtype not in _RRTYPES:
            raise InvalidInput(f"rrtype {one_line(rrtype, 20)!r} is not indexed")
        relation = _RRTYPES[rrtype]
        return relation, row.get("rrname"), list(_rdata(relation, row.get("rdata"))), *_COF
    relation = _relation(row.get("relation"))
    return relation, row.get("subject"), [row.get("object")], *_OWN


_COF = ("time_first", "time_last", "count")
_OWN = ("first_seen", "last_seen", "times_seen")


def _checked_shape(row: Mapping[str, Any]) -> tuple[Relation, object, list[object], str, str, str]:
    if any(isinstance(v, str) and len(v) > MAX_FIELD for v in row.values()):
        raise InvalidInput("a field is longer than 4096 characters")
    found = _triples(row)
    subject, objects = found[1], found[2]
    if subject in (None, "") or not objects or any(o in (None, "") for o in objects):
        raise InvalidInput("subject and object are required")
    return found


def _span(row: Mapping[str, Any], first_key: str, last_key: str, now: float) -> tuple[float, float]:
    last = _when(row.get(last_key), now)
    first = _when(row.get(first_key), last)
    if first > last:
        raise InvalidInput("first seen is after last seen")
    return first, last


def observations_of(row: Mapping[str, Any], now: float) -> list[Observation]:
    """A row's observations, or InvalidInput saying what is wrong with it."""
    relation, subject, objects, first_key, last_key, count_key = _checked_shape(row)
    subject_kind, subject_value = _subject(relation, subject)
    first, last = _span(row, first_key, last_key, now)
    times = _times(row.get(count_key))
    source = one_line(row.get("source") or "import", 40) or "import"
    out = []
    for obj in objects:
        object_kind, object_value = _kind_value(_OBJECTS[relation], obj)
        out.append(
            Observation(
                subject_value,
                subject_kind,
                relation,
                object_value,
                object_kind,
                source,
                first,
                last,
                times,
            )
        )
    return out


def _rows(path: Path) -> Iterator[tuple[int, Mapping[str, Any] | None]]:
    """(line number, row) for every data row; row None when the line is not a JSON object."""
    with path.open(encoding="utf-8-sig", newline="") as handle:  # -sig: Excel's BOM
        first = handle.read(1)
        handle.seek(0)
        if first == "{" or path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
            yield from _json_lines(handle)
        else:
            yield from _csv_rows(handle)


def _json_lines(handle: Any) -> Iterator[tuple[int, Mapping[str, Any] | None]]:
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        yield number, row if isinstance(row, dict) else None


_HEADERS = ({"subject", "relation", "object"}, {"rrname", "rrtype", "rdata"})


def _csv_rows(handle: Any) -> Iterator[tuple[int, Mapping[str, Any] | None]]:
    reader = csv.DictReader(handle)
    names = {(n or "").strip().lower() for n in reader.fieldnames or ()}
    if not any(needed <= names for needed in _HEADERS):
        raise UnreadableImport(
            "the CSV header must name subject, relation and object "
            "(or rrname, rrtype and rdata for passive DNS)"
        )
    for row in reader:
        yield reader.line_num, None if None in row else _clean(row)


def _clean(row: Mapping[str | None, Any]) -> dict[str, Any]:
    return {k.strip().lower(): v for k, v in row.items() if k is not None}


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """What makes a whole file unreadable, as UnreadableImport."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise UnreadableImport(f"{path.name} is not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise UnreadableImport(f"{path.name} is not readable CSV: {exc}") from None
    except OSError as exc:
        raise UnreadableImport(f"cannot read {path}: {exc.strerror or exc}") from None


def _count_rows(path: Path) -> int:
    """Pass one: read the whole file as the import will (decoding, header, CSV quoting), so
    that a file unreadable anywhere raises before anything is written."""
    with _readable(path):
        return sum(1 for _ in _rows(path))


def _checked(path: Path, now: float) -> Iterator[tuple[int, list[Observation] | str]]:
    with _readable(path):
        for number, row in _rows(path):
            if row is None:
                yield number, "not a JSON object or a CSV row of the header's width"
                continue
            try:
                yield number, observations_of(row, now)
            except InvalidInput as exc:
                yield number, str(exc)


async def import_file(index: Index, path: Path, *, now: float | None = None) -> ImportReport:
    """Check the whole file, then record its good rows. Raises UnreadableImport (nothing
    recorded) when the file cannot be read or recognised, StoreError (saying how much was
    recorded) when the index fails part-way."""
    at = time.time() if now is None else now
    report = ImportReport()
    report.rows = _count_rows(path)  # raises before anything is written
    batch: list[Observation] = []
    for number, checked in _checked(path, at):
        if isinstance(checked, str):
            report.skip(number, checked)
            continue
        batch += checked
        if len(batch) >= BATCH:
            await _record(index, batch, report)
            batch = []
    if batch:
        await _record(index, batch, report)
    return report


async def _record(index: Index, batch: list[Observation], report: ImportReport) -> None:
    try:
        await index.record(batch)
    except StoreError as exc:
        raise StoreError(
            f"{exc} (import stopped: {report.imported} observations were recorded before)"
        ) from exc
    report.imported += len(batch)
