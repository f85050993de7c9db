"""The command line: `python -m bot` (also installed as `pivot`). See DESIGN.md's table.

Every command that reads the environment may raise `ConfigError`; `main` catches it (and a
data directory that cannot be used) once, prints one line naming the problem, and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from enrichment.errors import ConfigError, InvalidInput, SourceError
from enrichment.indicators import extract_indicators, parse_indicator
from enrichment.model import Indicator, Risk
from enrichment.stores import StoreError, StoreUnreachable

USAGE_ERROR = 2
MAX_INPUT = 64 * 1024 * 1024  # bytes read from stdin at most


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pivot",
        description="Pivot: enrich security indicators and pivot on them, in Slack or here.",
        epilog="With no command: serve Slack when its credentials are set, else open the console.",
    )
    sub = parser.add_subparsers(dest="command", metavar="command")
    serve = sub.add_parser(
        "serve", help="serve Slack (Socket Mode with SLACK_APP_TOKEN, else HTTP)"
    )
    serve.add_argument("--host", default="0.0.0.0", help="HTTP mode's address")  # noqa: S104
    serve.add_argument("--port", type=int, help="HTTP mode's port (default: $PORT or 3000)")
    sub.add_parser("shell", help="the local console: /pivot X, paste text, press buttons")
    pivot = sub.add_parser("pivot", help="one card for an indicator")
    pivot.add_argument("indicator", help="a domain, IP, URL, e-mail or hash; defanged is fine")
    out = pivot.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the enrichment result as JSON")
    out.add_argument("--blocks", action="store_true", help="print the card's Block Kit JSON")
    pivot.add_argument("--follow", metavar="ID", help="run pivot ID offered on the card")
    pivot.add_argument("--page", type=int, default=1, metavar="N", help="page of --follow")
    sub.add_parser("extract", help="indicators in stdin, one JSON object per line")
    sub.add_parser("dga", help="names on stdin, one number in [0, 1] per line: how generated")
    feeds = sub.add_parser("feeds", help="threat feeds in the pivot index")
    feeds.add_argument("action", choices=["refresh"], help="refresh: download every feed now")
    index = sub.add_parser("index", help="the pivot index")
    index.add_argument("action", choices=["import"], help="import: load observations")
    index.add_argument("file", help="CSV or JSON lines: subject,relation,object,... or COF")
    rdap = sub.add_parser("rdap-refresh", help="download IANA's RDAP bootstrap files")
    rdap.add_argument("--dir", help="where to write them (default: the packaged copy)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _COMMANDS.get(args.command or "", _default)(args)
    except (ConfigError, InvalidInput) as exc:
        print(f"pivot: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except StoreUnreachable as exc:  # names the server (PIVOT_REDIS_URL), without a password
        print(f"pivot: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except StoreError as exc:
        print(f"pivot: the data directory (PIVOT_DATA_DIR) cannot be used: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130


def _default(args: argparse.Namespace) -> int:
    from bot.settings import SlackSettings

    return _serve(args) if SlackSettings.from_env().can_serve else _shell(args)


def _serve(args: argparse.Namespace) -> int:
    from bot.server import run

    return run(getattr(args, "host", "0.0.0.0"), getattr(args, "port", None))  # noqa: S104


def _shell(_args: argparse.Namespace) -> int:
    from bot.console.shell import run_console

    return run_console()


def _write(line: str) -> None:
    sys.stdout.buffer.write(line.encode("utf-8", "replace") + b"\n")


def read_stdin() -> str:
    """Standard input as text, at most MAX_INPUT bytes, undecodable bytes replaced (said once
    on stderr), NUL bytes as spaces."""
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
    return text.replace("\x00", " ")


def _extract(_args: argparse.Namespace) -> int:
    for indicator in extract_indicators(read_stdin()):
        _write(json.dumps(indicator.to_json(), ensure_ascii=False))
    sys.stdout.flush()
    return 0


DGA_BATCH = 10_000


def _dga(_args: argparse.Namespace) -> int:
    """One score per input line, empty and junk lines included (they score 0)."""
    from enrichment.dga import score_lines

    text = read_stdin()
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    for start in range(0, len(lines), DGA_BATCH):
        batch = [line.rstrip("\r") for line in lines[start : start + DGA_BATCH]]
        sys.stdout.write("".join(f"{score:.4f}\n" for score in score_lines(batch)))
    sys.stdout.flush()
    return 0


def _subject(text: str) -> Indicator:
    indicator = parse_indicator(text)
    if indicator is None:
        raise InvalidInput(f"no indicator found in {text[:80]!r}")
    return indicator


def _pivot(args: argparse.Namespace) -> int:
    from enrichment.settings import Settings

    settings = Settings.from_env()
    indicator = _subject(args.indicator)
    if args.page < 1:
        raise InvalidInput("page numbers start at 1")
    asyncio.run(_one_card(settings, indicator, args))
    return 0


async def _one_card(settings: Any, indicator: Indicator, args: argparse.Namespace) -> None:
    from bot.render import text
    from bot.render.cards import pivot_card, report_card
    from enrichment.service import Service

    async with Service(settings) as service:
        if args.follow:
            page = await service.pivot(args.follow, indicator, args.page)
            _print(
                page.to_json(),
                lambda: pivot_card(page, _no_keys).blocks,
                text.page_text(page),
                args,
            )
            return
        report = await service.enrich(indicator)
    _print(
        report.to_json(),
        lambda: report_card(report, _no_keys).blocks,
        text.report_text(report),
        args,
    )


def _print(
    doc: dict[str, Any],
    blocks: Callable[[], list[dict[str, Any]]],
    plain: str,
    args: argparse.Namespace,
) -> None:
    if args.json:
        _write(json.dumps(doc, ensure_ascii=False, indent=2))
    elif args.blocks:
        _write(json.dumps({"blocks": blocks()}, ensure_ascii=False, indent=2))
    else:
        _write(plain)


def _no_keys(action: str, target: str, page: int, risk: Risk | None = None) -> str:
    return f"{action}:{page}"


def _rdap_refresh(args: argparse.Namespace) -> int:
    from enrichment.rdap import bootstrap
    from enrichment.settings import Settings

    target = Path(args.dir) if args.dir else bootstrap.PACKAGED
    base = Settings.from_env().rdap_bootstrap_url or bootstrap.IANA_URL
    try:
        published = asyncio.run(bootstrap.refresh_with_own_client(target, base))
    except (SourceError, OSError) as exc:
        print(f"pivot: RDAP bootstrap not refreshed: {exc}", file=sys.stderr)
        return 1
    for name, when in published.items():
        print(f"{target / name}: published {when}")
    return 0


def _feeds(_args: argparse.Namespace) -> int:
    from enrichment.feeds import summary
    from enrichment.settings import Settings

    results = asyncio.run(_refresh_feeds(Settings.from_env()))
    for line in summary(results):
        _write(line)
    return 1 if any(r.outcome == "failed" for r in results) else 0


async def _refresh_feeds(settings: Any) -> list[Any]:
    """The feeds into the index: only the index, an HTTP client and the state store (due
    claims and validators, in Redis when set, shared with the replicas), no enrichment."""
    from bot.state import open_state
    from enrichment.feeds import Refresher
    from enrichment.http import make_client
    from enrichment.index import open_index

    state = open_state(settings)
    index = open_index(settings)
    try:
        async with make_client() as http:
            return await Refresher(settings, http, index, state).refresh_all(force=True)
    finally:
        await index.aclose()
        await state.aclose()


def _index(args: argparse.Namespace) -> int:
    from enrichment.index.importer import UnreadableImport
    from enrichment.settings import Settings

    try:
        report = asyncio.run(_import(Settings.from_env(), Path(args.file)))
    except UnreadableImport as exc:
        print(f"pivot: nothing imported: {exc}", file=sys.stderr)
        return 1
    _write(f"{args.file}: {report.rows:,} rows, {report.imported:,} observations imported")
    if report.skipped:
        _write(f"{report.skipped:,} rows skipped:")
        for problem in report.problems:
            _write(f"  {problem}")
        if report.skipped > len(report.problems):
            _write(f"  ... and {report.skipped - len(report.problems):,} more")
    return 1 if report.skipped else 0


async def _import(settings: Any, path: Path) -> Any:
    from enrichment.index import open_index
    from enrichment.index.importer import import_file

    index = open_index(settings)
    try:
        return await import_file(index, path)
    finally:
        await index.aclose()


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": _serve,
    "shell": _shell,
    "pivot": _pivot,
    "extract": _extract,
    "dga": _dga,
    "feeds": _feeds,
    "index": _index,
    "rdap-refresh": _rdap_refresh,
}
