"""Cards: enrichment results -> validated Block Kit messages, rendered from templates/.

Templates emit a stream of JSON values: first the `text` fallback, then one value per block.
The Environment's `finalize` JSON-encodes every `{{ value }}`, and any plain string is cleaned,
defanged and escaped on the way, so a template cannot place outside text unescaped; only
`Safe` values built by bot.render.escape go in as they are.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from bot.render import states
from bot.render.blockkit import finish, parse_stream, validate
from bot.render.controls import (
    Button,
    KeyMaker,
    card_exports,
    nav_buttons,
    open_button,
    page_exports,
    pivot_buttons,
    risk_button,
)
from bot.render.escape import (
    Safe,
    age,
    cat,
    clip,
    code,
    escape,
    field,
    fit,
    label,
    split_escaped,
    values,
)
from bot.render.memory import listed_line, memory_line
from bot.render.risk import headline, points, provenance
from bot.settings import SlackSettings
from enrichment.model import (
    Indicator,
    Kind,
    PivotItem,
    PivotPage,
    Reason,
    Report,
    Risk,
    Status,
)

__all__ = [
    "KeyMaker",
    "Message",
    "breakdown_card",
    "error_card",
    "escape",
    "pivot_card",
    "placeholder_card",
    "report_card",
    "summary_card",
    "usage_card",
    "validate",
]


def _template_dir() -> Path:
    """The checkout's own templates/ beside the package when run from source (so a second
    checkout never renders with the templates of the one installed in editable mode), else
    templates/ as installed (`bot.templates`, in a wheel)."""
    checkout = Path(__file__).resolve().parents[2]
    beside = checkout / "templates"
    if (checkout / "pyproject.toml").is_file() and (beside / "__init__.py").is_file():
        return beside  # a checkout, never a stray site-packages/templates of another package
    spec = importlib.util.find_spec("bot.templates")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return beside


TEMPLATES = _template_dir()
OPEN_BUTTONS_MAX = 20
RAW_BUDGET = 7000
RAW_CHUNK = 2900
_TEMPLATE_FOR_KIND = {
    **dict.fromkeys((Kind.IPV4, Kind.IPV6, Kind.CIDR), "ip"),
    **dict.fromkeys((Kind.MD5, Kind.SHA1, Kind.SHA256), "hash"),
    Kind.DOMAIN: "domain",
    Kind.URL: "url",
    Kind.EMAIL: "email",
}
_KIND_LABEL = {
    Kind.IPV4: "IPv4",
    Kind.IPV6: "IPv6",
    Kind.CIDR: "network",
    Kind.URL: "URL",
    Kind.EMAIL: "e-mail",
    Kind.MD5: "MD5",
    Kind.SHA1: "SHA-1",
    Kind.SHA256: "SHA-256",
}


@dataclass(frozen=True)
class Message:
    """A card ready to post: `text` is the escaped notification fallback."""

    text: str
    blocks: list[dict[str, Any]]

    def kwargs(self) -> dict[str, Any]:
        """Everything chat.postMessage / chat.update / respond need; links never unfurl."""
        return {
            "text": self.text,
            "blocks": self.blocks,
            "unfurl_links": False,
            "unfurl_media": False,
        }


@dataclass(frozen=True)
class _Line:
    text: Safe
    button: Button | None = None


# Public renderers ----------------------------------------------------------------------------


def report_card(report: Report, keys: KeyMaker) -> Message:
    ind = report.indicator
    said = states.verdict(report)
    return _render(
        _TEMPLATE_FOR_KIND.get(ind.kind, "domain"),
        ind=ind,
        kind=_kind_label(ind.kind),
        facts=report.facts,
        risk=_risk_line(report.risk),
        risk_short=_risk_short(report.risk),
        risk_button=risk_button(report, keys),
        verdict=said,
        listed=listed_line(report.facts),
        memory=memory_line(report.facts),
        idn=states.unicode_form(ind),
        age=_age_note(report.facts.get("created")),
        answered=any(r.status is Status.OK for r in report.results.values()),
        buttons=[*pivot_buttons(report.pivots, keys), *card_exports(report, keys)],
        status=states.status_line(report.results, said=said is not None),
    )


def summary_card(
    reports: Sequence[Report],
    keys: KeyMaker,
    left_out: int = 0,
    limit: int = SlackSettings.max_summary,
) -> Message:
    """One line per report, at most `limit`, what matters first (see `_importance`); `left_out`
    more the message held and the caller did not enrich (it caps at the same setting, so it
    never enriches what is not shown)."""
    shown = sorted(reports[:limit], key=_importance)
    lines = [_Line(_summary_text(r), open_button(r.indicator, keys)) for r in shown]
    more = len(reports) - len(shown) + max(0, left_out)
    names = ", ".join(fit(r.indicator.defanged, 60) for r in shown)
    return _render("summary", lines=lines, total=len(shown) + more, more=more, names=Safe(names))


def pivot_card(page: PivotPage, keys: KeyMaker) -> Message:
    if page.text is not None:
        return _raw_card(page)
    items = list(page.items)
    first = (page.page - 1) * page.page_size + 1 if items else 0
    last = first + len(items) - 1 if items else 0
    head = items[:OPEN_BUTTONS_MAX]
    tail = [_item_text(i) for i in items[OPEN_BUTTONS_MAX:]]
    return _render(
        "pivot",
        page=page,
        title=page.label or _pivot_title(page.pivot),
        lines=[_Line(_item_text(i), open_button(i.indicator, keys)) for i in head],
        rest=[Safe("\n".join(tail[n : n + 10])) for n in range(0, len(tail), 10)],
        first=first,
        last=last,
        nav=[*nav_buttons(page, last, keys), *page_exports(page, keys)],
        status=states.status_line(page.sources),
    )


def breakdown_card(report: Report) -> Message:
    """Every component of a report's risk: points, what it found, who said so, how fresh."""
    ind = report.indicator
    reasons = [_reason_text(r) for r in report.risk.reasons]
    return _render(
        "breakdown",
        ind=ind,
        kind=_kind_label(ind.kind),
        risk=_risk_line(report.risk),
        reasons=reasons,
    )


def placeholder_card(indicator: Indicator) -> Message:
    return _render("placeholder", ind=indicator, kind=_kind_label(indicator.kind))


def usage_card(reason: str | None = None) -> Message:
    return _render("usage", reason=reason)


def error_card(text: str) -> Message:
    return _render("error", message=text)


# Rendering -----------------------------------------------------------------------------------


def _finalize(value: object) -> str:
    if isinstance(value, Safe):
        return json.dumps(str(value))
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(str(fit(value, 3000)))


@functools.cache
def _environment() -> jinja2.Environment:
    # Autoescape is for HTML; the output here is JSON and `finalize` escapes for Slack.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(code=code, text=fit, label=label, cat=cat, field=field, age=age)
    return env


def _render(name: str, **context: Any) -> Message:
    source = _environment().get_template(f"{name}.json.j2").render(**context)
    values = parse_stream(source)
    text = values[0] if values and isinstance(values[0], str) else ""
    blocks = [v for v in values[1:] if isinstance(v, dict)]
    blocks, text = finish(blocks, text)
    return Message(text=text, blocks=blocks)


# Template helpers ----------------------------------------------------------------------------


def _kind_label(kind: Kind) -> str:
    return _KIND_LABEL.get(kind, str(kind))


def _risk_line(risk: Risk) -> Safe | None:
    """`*Risk 92/100 · likely malicious* · shares IP 212.61.180[.]100 with 3 listed domains`;
    None when nothing was judged (say nothing rather than promise a score)."""
    line = headline(risk)
    if line is None:
        return None
    reason = f" · {fit(line.reason, 200)}" if line.reason else ""
    return Safe(f"*{label(line.head)}*{reason}")


def _reason_text(reason: Reason) -> Safe:
    """`*+85 proximity* · shares IP … with 3 listed domains` over `_index, as of 2016-07-31_`:
    every part may carry outside text (a feed's threat name, a registrant's e-mail)."""
    said = fit(reason.detail or reason.code, 400)
    return Safe(f"*{fit(points(reason), 60)}* · {said}\n_{fit(provenance(reason), 200)}_")


def _risk_short(risk: Risk) -> Safe | None:
    line = headline(risk)
    return None if line is None else label(line.head.lower())


def _age_note(created: object) -> Safe | None:
    words = states.age_words(created)
    return label(f"({words})") if words else None


def _importance(report: Report) -> tuple[int, int]:
    """Sort key: scored lines by score, highest first; then lines with something to show;
    lines whose every source failed last. Stable, so ties keep the message's order."""
    score = report.risk.score
    if score is not None:
        return (0, -score)
    return (2, 0) if states.all_failed(report.results) else (1, 0)


def _summary_text(report: Report) -> Safe:
    ind = report.indicator
    parts = [f"{code(ind.defanged, 120)} {label(_kind_label(ind.kind))}"]
    parts += [str(fact) for fact in _key_facts(report)]
    if report.risk.score is not None:
        parts.append(f"*risk {fit(report.risk.score, 12)}*")
    return Safe(" · ".join(parts))


_KEY_FACTS = ("registrar", "created", "a", "as_name", "asn", "country", "network_name")


def _key_facts(report: Report) -> list[Safe]:
    facts = report.facts
    out = [_key_fact(k, facts[k]) for k in _KEY_FACTS if values(facts.get(k))][:3]
    return out or [states.summary_outcome(report) or Safe("_nothing known_")]


def _key_fact(key: str, value: object) -> Safe:
    shown = code(values(value)[0], 40)
    age = states.age_words(value) if key == "created" else None
    return Safe(f"{shown} ({label(age)})") if age else shown


def _item_text(item: PivotItem) -> Safe:
    parts = [str(code(item.indicator.defanged, 120))]
    if item.score is not None:
        parts.append(f"risk {fit(item.score, 12)}")
    if item.first_seen:
        parts.append(f"first seen {fit(item.first_seen, 40)}")
    if item.source:
        parts.append(str(fit(item.source, 40)))
    return Safe(" · ".join(parts))


def _pivot_title(pivot: str) -> str:
    return pivot.replace("_", " ").strip().capitalize() or "Pivot"


def _raw_card(page: PivotPage) -> Message:
    text = page.text or ""
    body, truncated = clip(text, RAW_BUDGET, multiline=True)
    return _render(
        "raw",
        page=page,
        title=page.label or _pivot_title(page.pivot),
        chunks=[Safe(f"```\n{c}\n```") for c in _raw_chunks(body)],
        truncated=truncated,
        total=len(text),
        status=states.status_line(page.sources),
    )


def _raw_chunks(body: str) -> list[str]:
    """Whole lines per code block where they fit, so a block never ends mid-entity."""
    chunks: list[str] = []
    for line in body.split("\n"):
        if chunks and len(chunks[-1]) + len(line) + 1 <= RAW_CHUNK:
            chunks[-1] += "\n" + line
        else:
            chunks += split_escaped(line, RAW_CHUNK) or [""]
    return [c for c in chunks if c.strip()]
