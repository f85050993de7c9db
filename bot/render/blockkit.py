"""Block Kit checks (slack_sdk's models plus the limits they miss) and graceful degradation.

Blocks carry their importance in `block_id`, "<digit>.<name>": 0 is never dropped, higher
digits go first when a card has too many blocks or too much text.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.render.escape import ELLIPSIS, truncate_escaped

__all__ = [
    "MAX_BLOCKS",
    "MAX_FALLBACK",
    "TEXT_BUDGET",
    "finish",
    "parse_stream",
    "text_size",
    "validate",
]

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_FIELD = 2000
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_FALLBACK = 3000
TEXT_BUDGET = 10_000
_LIST_LIMITS = {("section", "fields"): 10, ("context", "elements"): 10, ("actions", "elements"): 25}
_NOTE_ROOM = 200
_TEXT_TYPES = ("plain_text", "mrkdwn")

Block_ = dict[str, Any]


def validate(blocks: list[Block_], text: str) -> list[str]:
    """Every problem Slack (or its undocumented limits) would reject; [] when valid."""
    problems = _fallback_problems(text)
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks, limit {MAX_BLOCKS}")
    for i, block in enumerate(blocks):
        problems += [f"block {i}: {p}" for p in _sdk_problems(block)]
    for node, limit in _text_objects(blocks):
        problems += _text_object_problems(node, limit)
    problems += _id_problems(blocks)
    if any(key == "url" for key in _keys(blocks)):
        problems.append("an element carries a url")
    if (size := text_size(blocks)) > TEXT_BUDGET:
        problems.append(f"{size} characters of block text, budget {TEXT_BUDGET}")
    return problems


def parse_stream(source: str) -> list[Any]:
    """JSON values written one after another (what the templates emit), as a list."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    pos = 0
    while (pos := _skip_space(source, pos)) < len(source):
        value, pos = decoder.raw_decode(source, pos)
        values.append(value)
    return values


def _skip_space(source: str, pos: int) -> int:
    while pos < len(source) and source[pos].isspace():
        pos += 1
    return pos


def text_size(blocks: list[Block_]) -> int:
    return sum(len(str(node.get("text", ""))) for node, _ in _text_objects(blocks))


def _fallback_problems(text: str) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        return ["text fallback is empty"]
    problems = []
    if len(text) > MAX_FALLBACK:
        problems.append(f"text fallback has {len(text)} characters, limit {MAX_FALLBACK}")
    if "<" in text or ">" in text:
        problems.append("text fallback holds an unescaped < or >")
    return problems


def _sdk_problems(block: Any) -> list[str]:
    try:
        parsed = Block.parse(block)
        if parsed is None:
            return ["unknown block type"]
        if parsed.to_dict() != block:
            return ["does not survive slack_sdk's round trip (unknown or misspelt key)"]
    except SlackObjectFormationError as exc:
        return [str(exc)]
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return [f"malformed ({type(exc).__name__})"]
    return []


def _text_object_problems(node: dict[str, Any], limit: int) -> list[str]:
    text = node.get("text")
    if not isinstance(text, str) or not text.strip():
        return ["empty text"]
    problems = []
    if len(text) > limit:
        problems.append(f"text of {len(text)} characters, limit {limit}")
    if "<" in text or ">" in text:
        problems.append("unescaped < or > in text")
    if node.get("type") == "mrkdwn" and node.get("verbatim") is not True:
        problems.append("mrkdwn without verbatim")
    return problems


def _id_problems(blocks: list[Block_]) -> list[str]:
    problems = []
    for what, ids in (("action_id", _action_ids(blocks)), ("block_id", _block_ids(blocks))):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        problems += [f"duplicate {what} {d!r}" for d in dupes]
    return problems


def _action_ids(blocks: list[Block_]) -> list[str]:
    return [str(n["action_id"]) for n in _dicts(blocks) if "action_id" in n]


def _block_ids(blocks: list[Block_]) -> list[str]:
    return [str(b["block_id"]) for b in blocks if isinstance(b, dict) and "block_id" in b]


def _dicts(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for child in node.values():
            yield from _dicts(child)
    elif isinstance(node, list):
        for child in node:
            yield from _dicts(child)


def _keys(node: Any) -> Iterator[str]:
    for d in _dicts(node):
        yield from d


def _text_objects(node: Any, limit: int = MAX_TEXT) -> Iterator[tuple[dict[str, Any], int]]:
    """Every text object with the length Slack allows for it where it sits."""
    if isinstance(node, list):
        for child in node:
            yield from _text_objects(child, limit)
    elif isinstance(node, dict):
        if node.get("type") in _TEXT_TYPES and "text" in node:
            yield node, limit
            return
        for key, child in node.items():
            yield from _text_objects(child, _limit_for(node.get("type"), key))


def _limit_for(kind: Any, key: str) -> int:
    if key == "fields":
        return MAX_FIELD
    return {"header": MAX_HEADER, "button": MAX_BUTTON_TEXT}.get(str(kind), MAX_TEXT)


# Degradation ---------------------------------------------------------------------------------


@dataclass
class _Trim:
    dropped: int = 0
    shortened: int = 0

    def note(self) -> Block_ | None:
        if not (self.dropped or self.shortened):
            return None
        parts = [f"{self.dropped} blocks left out"] if self.dropped else []
        parts += [f"{self.shortened} values shortened"] if self.shortened else []
        text = "Trimmed to fit Slack's limits: " + ", ".join(parts) + "."
        return _context("0.trimmed", text)


def finish(blocks: list[Block_], text: str) -> tuple[list[Block_], str]:
    """Repair what can be repaired, drop or shorten what cannot fit, say so; never raise."""
    text = _fix_fallback(text)
    trim = _Trim()
    blocks = [_repair(b, trim) for b in copy.deepcopy(blocks) if isinstance(b, dict)]
    _make_unique(blocks)
    kept = [b for b in blocks if not _sdk_problems(b)]
    trim.dropped += len(blocks) - len(kept)
    kept = _shrink(_drop_to_fit(kept, trim), trim)
    if (note := trim.note()) is not None:
        kept.append(note)
    if validate(kept, text):
        return [_context("0.fallback", text)], text
    return kept, text


def _fix_fallback(text: str) -> str:
    text = text if isinstance(text, str) and text.strip() else "Pivot"
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return truncate_escaped(text, MAX_FALLBACK)


def _repair(block: Block_, trim: _Trim) -> Block_:
    for node in _dicts(block):
        node.pop("url", None)
        for (kind, key), cap in _LIST_LIMITS.items():
            items = node.get(key) if node.get("type") == kind else None
            if isinstance(items, list) and len(items) > cap:
                node[key] = items[:cap]
                trim.shortened += 1
    for node, limit in _text_objects(block):
        _repair_text(node, limit, trim)
    return block


def _repair_text(node: dict[str, Any], limit: int, trim: _Trim) -> None:
    text = node.get("text")
    text = text.replace("<", "&lt;").replace(">", "&gt;") if isinstance(text, str) else ""
    if not text.strip():
        text = "—"
    if len(text) > limit:
        text = truncate_escaped(text, limit)
        trim.shortened += 1
    node["text"] = text
    if node.get("type") == "mrkdwn":
        node["verbatim"] = True


def _make_unique(blocks: list[Block_]) -> None:
    seen: set[str] = set()
    for node in _dicts(blocks):
        if "action_id" in node:
            node["action_id"] = _first_free(str(node["action_id"]), seen, ":")
    seen = set()
    for block in blocks:
        if "block_id" in block:
            block["block_id"] = _first_free(str(block["block_id"]), seen, ".")


def _first_free(name: str, seen: set[str], sep: str) -> str:
    candidate, n = name, 1
    while candidate in seen:
        n += 1
        candidate = f"{name}{sep}{n}"
    seen.add(candidate)
    return candidate


def _priority(block: Block_) -> int:
    bid = str(block.get("block_id", ""))
    return int(bid[0]) if bid[:1].isdigit() and bid[1:2] == "." else 5


def _drop_to_fit(blocks: list[Block_], trim: _Trim) -> list[Block_]:
    def too_big() -> bool:
        return len(blocks) > MAX_BLOCKS - 1 or text_size(blocks) > TEXT_BUDGET - _NOTE_ROOM

    while too_big():
        candidates = [i for i, b in enumerate(blocks) if _priority(b) > 0]
        if not candidates:
            break
        worst = max(candidates, key=lambda i: (_priority(blocks[i]), i))
        del blocks[worst]
        trim.dropped += 1
    if len(blocks) > MAX_BLOCKS - 1:
        trim.dropped += len(blocks) - (MAX_BLOCKS - 1)
        del blocks[MAX_BLOCKS - 1 :]
    return blocks


def _shrink(blocks: list[Block_], trim: _Trim) -> list[Block_]:
    """Still over the text budget with only essential blocks left: cut the longest texts."""
    while (excess := text_size(blocks) - (TEXT_BUDGET - _NOTE_ROOM)) > 0:
        node, _ = max(_text_objects(blocks), key=lambda pair: len(pair[0]["text"]))
        size = len(node["text"])
        if size <= 40:
            break
        node["text"] = truncate_escaped(node["text"], max(size - excess, 40))
        trim.shortened += 1
    return blocks


def _context(block_id: str, text: str) -> Block_:
    text = truncate_escaped(text, MAX_TEXT) or ELLIPSIS
    element = {"type": "mrkdwn", "text": text, "verbatim": True}
    return {"type": "context", "block_id": block_id, "elements": [element]}
