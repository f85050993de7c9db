"""`python -m bot shell`: the bot without a workspace.

The same AsyncApp and listeners, driven by signed requests as Slack would send them, against
the in-process fake of the Web API (bot.console.fake_slack). Type `/pivot X`, paste text, or
type a button's number. Reads a pipe as well as a terminal, and ends on EOF or `quit`.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import TextIO

import aiohttp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import Bot, Identity, build_app, make_client
from bot.console import payloads
from bot.console.fake_slack import FakeSlack, Posted
from bot.console.view import View
from bot.settings import SlackSettings
from enrichment.service import Service
from enrichment.settings import Settings
from enrichment.stores import MemoryStore

CHANNEL, USER = "CCONSOLE", "UANALYST"
PASTE_GAP = 0.05  # lines arriving this close together on a terminal are one pasted message
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"  # what a terminal wraps a paste in
BRACKETED_PASTE = ("\x1b[?2004h", "\x1b[?2004l")  # ask the terminal to mark pastes, and stop
PROGRESS = 0.25  # how often cards in progress are redrawn
HELP = """\
  /pivot X     a card for each indicator in X (defanged is fine)
  any text     a message in the channel: indicators in it get one threaded reply
  N            press button [N]
  /shortcut    "Pivot this message" on your last message
  help, quit   this text; leave (so does end of input)"""


class Console:
    def __init__(self, bot: Bot, fake: FakeSlack, secret: str, out: TextIO) -> None:
        self.bot, self.fake, self.secret = bot, fake, secret
        self.view = View(fake, out)
        self.out = out
        self.last_message: Posted | None = None
        self._armed: int | None = None  # a button whose confirmation was asked

    async def handle(self, line: str) -> bool:
        """Act on one line; False when the session should end."""
        line = line.strip()
        if not line.isdigit():
            self._armed = None
        if line.lower() in {"quit", "exit", r"\q"}:
            return False
        if not line:
            return True
        if line.lower() in {"help", "?"}:
            self.say(HELP)
        elif line.isdigit():
            await self.press(int(line))
        elif line.split()[0] == "/pivot":
            await self.slash(line.partition(" ")[2])
        elif line == "/shortcut":
            await self.shortcut()
        elif line.startswith("/"):
            self.say(f"  unknown command {line.split()[0]!r}; try help")
        else:
            await self.message(line)
        return True

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def dispatch(self, body: str, content_type: str) -> None:
        headers: dict[str, str | Sequence[str]] = {
            **payloads.signed_headers(self.secret, body, content_type)
        }
        response = await self.bot.app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
        if response.status != 200:
            self.say(f"  (Slack would have seen HTTP {response.status})")
        await self.settle()

    async def settle(self) -> None:
        """Show cards as they are posted and updated, until all the work is done."""
        while not await self.bot.deps.tasks.wait(PROGRESS):
            self.view.refresh()
        self.view.refresh()

    def _response_url(self) -> str:
        return self.fake.response_url(CHANNEL, USER)

    async def slash(self, text: str) -> None:
        body = payloads.slash_command(
            text, channel=CHANNEL, user=USER, response_url=self._response_url()
        )
        await self.dispatch(body, payloads.FORM)

    async def message(self, text: str) -> None:
        posted = self.fake.user_message(CHANNEL, text, user=USER)
        self.last_message = posted
        self.view.mark_seen(posted)
        event = {"channel": CHANNEL, "user": USER, "text": text, "ts": posted.ts}
        await self.dispatch(payloads.message_event({**event, "event_ts": posted.ts}), payloads.JSON)

    async def shortcut(self) -> None:
        if self.last_message is None:
            self.say("  type a message first; /shortcut runs on your last one")
            return
        message = {"ts": self.last_message.ts, "text": self.last_message.text, "user": USER}
        body = payloads.message_shortcut(
            message, channel=CHANNEL, user=USER, response_url=self._response_url()
        )
        await self.dispatch(body, payloads.FORM)

    async def press(self, number: int) -> None:
        found = self.view.button(number)
        if found is None:
            self.say(f"  there is no button [{number}]")
            return
        question = self.view.confirm(number)
        if question and self._armed != number:  # as Slack's confirm dialog: ask, act on yes
            self._armed = number
            self.say(f"  {question} Press {number} again to go ahead.")
            return
        self._armed = None
        posted, action = found
        message = posted.as_clicked(self.fake.user_id, self.fake.bot_id)
        body = payloads.block_action(
            action,
            channel=posted.channel,
            user=USER,
            response_url=self.fake.response_url(posted.channel, USER),
            message=message,
        )
        await self.dispatch(body, payloads.FORM)


def _reader(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line)
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def _next_input(queue: asyncio.Queue[str | None], tty: bool) -> str | None:
    """The next message. On a terminal a paste is one message, however many lines it has:
    the terminal marks it (bracketed paste, switched on in `run`), and without the marks the
    lines that arrive together count as one. A pipe gives one message a line (a transcript)."""
    line = await queue.get()
    if line is None or not tty:
        return line
    if PASTE_START in line:
        return await _bracketed(queue, line)
    if line.lstrip().startswith("/") or line.strip().isdigit():
        return line
    return await _burst(queue, line)


async def _bracketed(queue: asyncio.Queue[str | None], first: str) -> str:
    lines = [first.replace(PASTE_START, "").rstrip("\n")]
    while PASTE_END not in lines[-1]:
        more = await queue.get()
        if more is None:
            queue.put_nowait(None)
            break
        lines.append(more.rstrip("\n"))
    return "\n".join(lines).replace(PASTE_END, "").strip("\n")


async def _burst(queue: asyncio.Queue[str | None], first: str) -> str:
    lines = [first.rstrip("\n")]
    while True:
        try:
            more = await asyncio.wait_for(queue.get(), PASTE_GAP)
        except TimeoutError:
            break
        if more is None:
            queue.put_nowait(None)
            break
        lines.append(more.rstrip("\n"))
    return "\n".join(lines)


async def run(out: TextIO = sys.stdout) -> int:
    slack = SlackSettings.from_env()
    settings = Settings.from_env()
    with FakeSlack(user_id="UBOT", bot_id="BBOT") as fake:
        secret = secrets.token_hex(16)
        slack = replace(
            slack,
            bot_token="xoxb-console",  # noqa: S106 (the fake takes any token)
            signing_secret=secret,
            app_token=None,
            api_url=fake.api_url,
        )
        async with aiohttp.ClientSession() as session, Service(settings) as service:
            bot = build_app(
                slack,
                client=make_client(slack, session=session),
                service=service,
                state=MemoryStore(),  # one process, one session: nothing to share
                identity=Identity(),
                allowlist=settings.allowlist,
            )
            try:
                await _session(Console(bot, fake, secret, out), sys.stdin.isatty())
            finally:
                await bot.aclose()
    return 0


async def _session(console: Console, tty: bool) -> None:
    console.say("Pivot console: /pivot X, paste text, press buttons by number; help, quit.")
    console.say("Sources that cannot be reached (offline?) show as failed on the card.")
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    threading.Thread(target=_reader, args=(loop, queue), daemon=True).start()
    if tty:
        print(BRACKETED_PASTE[0], end="", file=console.out, flush=True)
    try:
        while await _turn(console, queue, tty):
            pass
    finally:
        if tty:
            print(BRACKETED_PASTE[1], end="", file=console.out, flush=True)


async def _turn(console: Console, queue: asyncio.Queue[str | None], tty: bool) -> bool:
    """Read and handle one message; False when the session ends."""
    if tty:
        print("> ", end="", file=console.out, flush=True)
    line = await _next_input(queue, tty)
    if line is not None and not tty and line.strip():
        console.say(f"> {line.strip()}")  # a transcript reads like a session
    return line is not None and await console.handle(line)


def run_console() -> int:
    """`python -m bot shell` (bad variables raise ConfigError for the caller)."""
    return asyncio.run(run())
