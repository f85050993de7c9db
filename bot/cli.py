"""The one-shot commands: `extract`, `pivot X` and `rdap-refresh`."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from enrichment.errors import InvalidInput
from enrichment.indicators import extract_indicators, parse_indicator
from enrichment.model import Indicator, Report
from enrichment.service import Service
from enrichment.settings import Settings

MAX_INPUT = 64 * 1024 * 1024  # bytes read from stdin at most


def _write(line: str) -> None:
    sys.stdout.buffer.write(line.encode("utf-8", "replace") + b"\n")


def extract() -> int:
    data = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        print(
            f"pivot: input larger than {MAX_INPUT >> 20} MiB; only the start was read",
            file=sys.stderr,
        )
        data = data[:MAX_INPUT]
    text = data.decode("utf-8", "replace")
    if "\ufffd" in text and b"\xef\xbf\xbd" not in data:
        print("pivot: input was not valid UTF-8; undecodable bytes were ignored", file=sys.stderr)
    for indicator in extract_indicators(text.replace("\x00", " ")):
        _write(json.dumps(indicator.to_json(), ensure_ascii=False))
    sys.stdout.flush()
    return 0


def _subject(text: str) -> Indicator:
    indicator = parse_indicator(text)
    if indicator is None:
        raise InvalidInput(f"no indicator found in {text[:80]!r}")
    return indicator


def pivot(text: str, follow: str | None, page: int, *, json_out: bool, blocks: bool) -> int:
    settings = Settings.from_env()
    indicator = _subject(text)
    return asyncio.run(_pivot(settings, indicator, follow, page, json_out, blocks))


async def _pivot(
    settings: Settings,
    indicator: Indicator,
    follow: str | None,
    page: int,
    json_out: bool,
    blocks: bool,
) -> int:
    async with Service(settings) as service:
        if follow:
            result = await service.pivot(follow, indicator, page)
            if json_out:
                _write(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
            elif blocks:
                from bot.render.cards import pivot_card

                _print_blocks(pivot_card(result, _no_keys).blocks)
            else:
                _write(_page_text(result.to_json()))
            return 0
        report = await service.enrich(indicator)
    if json_out:
        _write(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    elif blocks:
        from bot.render.cards import report_card

        _print_blocks(report_card(report, _no_keys).blocks)
    else:
        _write(report_text(report))
    return 0


def _no_keys(action: str, target: str, page: int) -> str:
    return f"{action}:{page}"


def _print_blocks(blocks: list[dict[str, Any]]) -> None:
    _write(json.dumps({"blocks": blocks}, ensure_ascii=False, indent=2))


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
        if r.status.value != "skipped"
    ]
    lines.append("  sources: " + (", ".join(asked) or "none applied"))
    if report.pivots:
        lines.append(
            "  pivots: "
            + ", ".join(
                f"{p.id}" + (f" ({p.count})" if p.count is not None else "") for p in report.pivots
            )
        )
    return "\n".join(lines)


def _page_text(page: dict[str, Any]) -> str:
    subject = page["subject"]["defanged"]
    lines = [f"{page['pivot']} on {subject}: {page['total']} result(s), page {page['page']}"]
    lines += [f"  {item['defanged']}  ({item['kind']})" for item in page["items"]]
    if page.get("text"):
        lines.append(_terminal_block(page["text"]))
    for name, source in page["sources"].items():
        if source["status"] != "ok":
            lines.append(f"  {name}: {source['status']} {_clean(source['detail'] or '')}")
    return "\n".join(lines)


def _terminal_block(text: str) -> str:
    return "\n".join(_clean(line) for line in text.splitlines())


def rdap_refresh(directory: str | None) -> int:
    from enrichment.rdap.bootstrap import refresh_command

    return refresh_command(directory)
