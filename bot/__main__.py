"""The command line: `python -m bot` (also installed as `pivot`). See DESIGN.md's table."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from enrichment.errors import InvalidInput

USAGE_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pivot",
        description="Pivot: enrich security indicators and pivot on them, in Slack or here.",
        epilog="With no command: serve Slack when its credentials are set, else open the console.",
    )
    sub = parser.add_subparsers(dest="command", metavar="command")
    sub.add_parser("serve", help="serve Slack (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    sub.add_parser("shell", help="the local console: /pivot X, paste text, press buttons")
    pivot = sub.add_parser("pivot", help="one card for an indicator")
    pivot.add_argument("indicator", help="a domain, IP, URL, e-mail or hash; defanged is fine")
    out = pivot.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the enrichment result as JSON")
    out.add_argument("--blocks", action="store_true", help="print the card's Block Kit JSON")
    pivot.add_argument("--follow", metavar="ID", help="run pivot ID offered on the card")
    pivot.add_argument("--page", type=int, default=1, metavar="N", help="page of --follow")
    sub.add_parser("extract", help="indicators in stdin, one JSON object per line")
    rdap = sub.add_parser("rdap-refresh", help="download IANA's RDAP bootstrap files")
    rdap.add_argument("--dir", help="where to write them (default: the packaged copy)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _run(args)
    except InvalidInput as exc:
        print(f"pivot: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    if args.command == "extract":
        from bot.cli import extract

        return extract()
    if args.command == "pivot":
        from bot.cli import pivot

        return pivot(args.indicator, args.follow, args.page, json_out=args.json, blocks=args.blocks)
    if args.command == "rdap-refresh":
        from bot.cli import rdap_refresh

        return rdap_refresh(args.dir)
    if args.command == "serve" or (args.command is None and _has_slack_credentials()):
        from bot.server import main as serve

        return serve([])
    from bot.console import main as console

    return console([])


def _has_slack_credentials() -> bool:
    from bot.settings import SlackSettings

    return SlackSettings.from_env().can_serve


if __name__ == "__main__":
    sys.exit(main())
