"""The card's lines about what the team already knows: which threat feeds list the
indicator, where it came up in Slack before, and what it pointed to in the past."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.render.escape import Safe, code, fit, label
from enrichment.feeds import feed_name


def _ago(iso: object, now: datetime | None = None) -> str | None:
    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 3600:
        return "just now" if seconds < 120 else f"{int(seconds // 60)} minutes ago"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} hours ago"
    return f"{int(seconds // 86400)} days ago"


def listed_line(facts: Mapping[str, Any]) -> Safe | None:
    """`:rotating_light: *Listed by* URLhaus (malware_download, since 2026-12-05) · ...`, and
    under it the URLs feeds list on this host, defanged."""
    lines = [line for line in (_listed(facts), _served(facts)) if line]
    return Safe("\n".join(lines)) if lines else None


def _served(facts: Mapping[str, Any]) -> str | None:
    urls = [e for e in facts.get("listed_urls") or [] if isinstance(e, dict)]
    if not urls:
        return None
    feeds = sorted({feed_name(e.get("feed")) for e in urls})
    shown = ", ".join(str(code(e.get("value"), 80)) for e in urls[:2])
    more = f" and {len(urls) - 2} more" if len(urls) > 2 else ""
    return f":warning: *Serves URLs listed by* {label(', '.join(feeds))}: {shown}{more}"


def _listed(facts: Mapping[str, Any]) -> str | None:
    listed = facts.get("listed_by")
    if not isinstance(listed, list) or not listed:
        return None
    parts = []
    for entry in listed[:5]:
        if not isinstance(entry, dict):
            continue
        name = feed_name(entry.get("feed"))
        about = [str(x) for x in (entry.get("threat"),) if x]
        if entry.get("first_seen"):
            about.append(f"since {entry['first_seen']}")
        parts.append(f"{label(name)}" + (f" ({fit(', '.join(about), 80)})" if about else ""))
    return ":rotating_light: *Listed by* " + " · ".join(parts) if parts else None


def memory_line(facts: Mapping[str, Any], now: datetime | None = None) -> Safe | None:
    """`Seen in Slack 3 times, last in #soc by alice 2 days ago · in the index since ...`"""
    parts = [p for p in (_sightings(facts.get("sightings"), now), _history(facts)) if p]
    return Safe(" · ".join(parts)) if parts else None


def _sightings(seen: Any, now: datetime | None) -> str | None:
    if not isinstance(seen, dict) or not seen.get("count"):
        return None
    count = int(seen["count"])
    text = f"Seen in Slack {count} time{'s' if count != 1 else ''}"
    recent = [r for r in seen.get("recent") or [] if isinstance(r, dict)]
    return text + (_last(recent[0], now) if recent else "")


_SLACK_ID = re.compile(r"[A-Z][A-Z0-9]{2,20}")


def _where(channel: object) -> str:
    """`#name` as the command named it, or Slack's own channel reference for a bare ID (a
    link to the channel that notifies no one), never outside markup."""
    text = str(channel or "")
    if _SLACK_ID.fullmatch(text) and text[0] in "CG":
        return f"<#{text}>"
    return str(fit(text or "a channel", 40))


def _who(user: object) -> str:
    """`@name` when the name is known; a bare user ID is left out rather than written as a
    mention (a mention would notify them every time the indicator comes up)."""
    text = str(user or "")
    return "" if not text or _SLACK_ID.fullmatch(text) else f" by @{fit(text, 40)}"


def _last(row: Mapping[str, Any], now: datetime | None) -> str:
    when = _ago(row.get("at"), now)
    return f", last in {_where(row.get('channel'))}{_who(row.get('user'))}" + (
        f" {when}" if when else ""
    )


def _day(row: Mapping[str, Any]) -> Safe:
    return fit(row.get("last_seen") or "?", 12)


def _history(facts: Mapping[str, Any]) -> str | None:
    parts = []
    if facts.get("first_seen_here"):
        parts.append(f"in the index since {fit(facts['first_seen_here'], 12)}")
    earlier = _earlier(facts)
    if earlier:
        shown = ", ".join(f"{code(h['value'], 60)} (until {_day(h)})" for h in earlier)
        parts.append(f"earlier addresses {shown}")
    return " · ".join(parts) or None


def _earlier(facts: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The past addresses it no longer has, newest first (at most three)."""
    current = set(facts.get("a") or []) | set(facts.get("aaaa") or [])
    rows: list[Mapping[str, Any]] = [h for h in facts.get("history") or [] if isinstance(h, dict)]
    return [h for h in rows if h.get("value") not in current][:3]
