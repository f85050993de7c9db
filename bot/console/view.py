"""The console's view of the fake workspace: Block Kit as readable text, threads indented,
buttons numbered, each message printed when it is posted and again when it is updated."""

from __future__ import annotations

import html
import textwrap
from typing import Any, TextIO

from bot.console.fake_slack import FakeSlack, Posted

INDENT = "    │ "
WIDTH = 100


def terminal_safe(text: str) -> str:
    """Slack's escaping undone for reading; control characters (escape sequences) dropped."""
    text = html.unescape(text) if "&" in text else text
    return "".join(c if c.isprintable() or c == "\n" else " " for c in text)


def _text(node: Any) -> str:
    if isinstance(node, dict):
        return terminal_safe(str(node.get("text") or ""))
    return ""


class View:
    def __init__(self, fake: FakeSlack, out: TextIO) -> None:
        self.fake, self.out = fake, out
        self._shown: dict[tuple[str, str], int] = {}
        self._buttons: dict[int, tuple[Posted, dict[str, Any]]] = {}
        self._confirms: dict[int, str] = {}
        self._reactions = 0
        self._uploads: set[str] = set()

    def mark_seen(self, posted: Posted) -> None:
        self._shown[(posted.channel, posted.ts)] = posted.version

    def button(self, number: int) -> tuple[Posted, dict[str, Any]] | None:
        return self._buttons.get(number)

    def confirm(self, number: int) -> str | None:
        """The question Slack would ask before sending button `number`'s click."""
        return self._confirms.get(number)

    def refresh(self) -> None:
        messages, reactions, uploads = self.fake.snapshot()
        for posted in messages:
            key = (posted.channel, posted.ts)
            if self._shown.get(key) != posted.version:
                updated = key in self._shown
                self._shown[key] = posted.version
                self._print(posted, updated)
        for channel, ts, name in reactions[self._reactions :]:
            self._emit([f":{name}: added to the message at {ts} in {channel}"], indent=False)
        self._reactions = len(reactions)
        for upload in uploads:
            if upload.channel and upload.file_id not in self._uploads:
                self._uploads.add(upload.file_id)
                self._print_upload(upload.title, upload.content, upload.thread_ts is not None)
        self.out.flush()

    def _print(self, posted: Posted, updated: bool) -> None:
        lines = self._render(posted)
        who = "only you see this" if posted.ephemeral_to else "pivot"
        head = f"[{who}{', updated' if updated else ''}]"
        self._emit([head, *lines, ""], indent=posted.is_reply)

    def _print_upload(self, title: str, content: bytes, in_thread: bool) -> None:
        text = terminal_safe(content.decode("utf-8", "replace"))
        lines = text.splitlines()
        cut = [line if len(line) <= WIDTH else line[: WIDTH - 1] + "…" for line in lines[:15]]
        shown = [f"[file] {terminal_safe(title)} ({len(content)} bytes)", *cut]
        if len(lines) > 15:
            shown.append(f"… {len(lines) - 15} more lines")
        self._emit([*shown, ""], indent=in_thread)

    def _emit(self, lines: list[str], *, indent: bool) -> None:
        prefix = INDENT if indent else ""
        for line in lines:
            print(f"{prefix}{line}".rstrip(), file=self.out)

    def _render(self, posted: Posted) -> list[str]:
        if not posted.blocks:
            return self._wrap(terminal_safe(posted.text))
        lines: list[str] = []
        for block in posted.blocks:
            lines += self._block(block, posted)
        return lines

    def _block(self, block: dict[str, Any], posted: Posted) -> list[str]:
        kind = block.get("type")
        elements = block.get("elements") or []
        if kind == "header":
            return [f"== {_text(block.get('text'))} =="]
        if kind == "divider":
            return ["-" * 40]
        if kind == "context":
            return self._wrap(" · ".join(_text(e) for e in elements), "  ")
        if kind == "actions":
            buttons = [self._number(e, block, posted) for e in elements]
            return self._wrap("  ".join(filter(None, buttons)))
        return self._section(block, posted) if kind == "section" else [f"({kind} block)"]

    def _section(self, block: dict[str, Any], posted: Posted) -> list[str]:
        lines = self._wrap(_text(block.get("text"))) if block.get("text") else []
        for item in block.get("fields") or []:
            lines += self._wrap(_text(item).replace("\n", ": ", 1), "  ")
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            label = self._number(accessory, block, posted)
            if label and lines:
                lines[0] = f"{lines[0]}  {label}"
            elif label:
                lines.append(label)
        return lines

    def _number(self, element: dict[str, Any], block: dict[str, Any], posted: Posted) -> str:
        if element.get("type") != "button":
            return ""
        number = len(self._buttons) + 1
        action = {
            "action_id": element.get("action_id"),
            "block_id": block.get("block_id"),
            "value": element.get("value"),
            "text": element.get("text"),
        }
        self._buttons[number] = (posted, action)
        asks = (element.get("confirm") or {}).get("text")
        if asks:
            self._confirms[number] = _text(asks)
        return f"[{number}] {_text(element.get('text'))}" + (" (asks first)" if asks else "")

    @staticmethod
    def _wrap(text: str, prefix: str = "") -> list[str]:
        out: list[str] = []
        for line in text.splitlines() or [""]:
            if line.startswith("```") or len(line) <= WIDTH:
                out.append(prefix + line)
            else:
                out += textwrap.wrap(line, WIDTH, initial_indent=prefix, subsequent_indent=prefix)
        return out
