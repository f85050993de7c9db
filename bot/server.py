"""`python -m bot serve`: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on $PORT.

HTTP mode serves Bolt on aiohttp: POST /slack/events for events, commands and
interactivity (through bot.intake: verified, acknowledged at once, handled behind), GET
/healthz for the platform's health check.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import Bot, build_app, make_client
from bot.intake import Intake
from bot.settings import SlackSettings
from bot.state import Store, open_state
from enrichment.feeds import Refresher, keep_fresh
from enrichment.service import Service
from enrichment.settings import Settings

PATH = "/slack/events"
MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller
SHUTDOWN_GRACE = 10.0
log = logging.getLogger("bot.server")


def web_app(bot: Bot, path: str = PATH) -> web.Application:
    intake = Intake(bot, bot.deps.settings.signing_secret or "")

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, intake.handle)
    app.router.add_get("/healthz", health)
    return app


async def start_http(bot: Bot, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, int]:
    """Serve `bot` over HTTP; returns the runner (cleanup() it) and the port bound."""
    # Everything built so far lives as long as the process: out of the collector's sight, a
    # burst's garbage collections stop walking the whole heap (models, tables, templates).
    gc.freeze()
    runner = web.AppRunner(web_app(bot), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    return runner, int(bound)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def serve_http(bot: Bot, host: str, port: int, stop: asyncio.Event) -> None:
    runner, bound = await start_http(bot, host, port)
    log.warning("serving Slack over HTTP on %s:%d%s", host, bound, PATH)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


async def serve_socket_mode(bot: Bot, app_token: str, stop: asyncio.Event) -> None:
    handler = AsyncSocketModeHandler(bot.app, app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    log.warning("connected to Slack in Socket Mode")
    try:
        await stop.wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def serve(slack: SlackSettings, settings: Settings, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM, then give started pivots a moment to finish."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    state = open_state(settings)
    async with aiohttp.ClientSession() as session, Service(settings) as service:
        client = make_client(slack, session=session)
        bot = build_app(
            slack, client=client, service=service, state=state, allowlist=settings.allowlist
        )
        feeds = _keep_feeds_fresh(settings, service, state, stop)
        try:
            if slack.app_token:
                await serve_socket_mode(bot, slack.app_token, stop)
            else:
                await serve_http(bot, host, port, stop)
        finally:
            if feeds is not None:
                await feeds
            if not await bot.deps.tasks.wait(SHUTDOWN_GRACE):
                log.warning("stopping with %d pivots unfinished", len(bot.deps.tasks))
            await bot.aclose()
            await state.aclose()


def _keep_feeds_fresh(
    settings: Settings, service: Service, state: Store, stop: asyncio.Event
) -> asyncio.Task[None] | None:
    """The periodic feed refresh, while serving (due claims in the bot's state store, so
    replicas sharing it refresh each feed once per interval); None without an index or when
    the feeds source is not enabled."""
    if service.index is None or "feeds" not in service.sources:
        return None
    refresher = Refresher(settings, service.http, service.index, state)
    return asyncio.create_task(keep_fresh(refresher, stop), name="pivot-feeds")


def _problem(slack: SlackSettings) -> str | None:
    if not slack.bot_token:
        return "SLACK_BOT_TOKEN is not set"
    if not slack.app_token and not slack.signing_secret:
        return "HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)"
    return None


def run(host: str, port: int | None) -> int:
    """`python -m bot serve`: exit 2 with one line when Slack's credentials are missing (bad
    variables raise ConfigError, an unusable data directory StoreError, for the caller)."""
    slack = SlackSettings.from_env()
    settings = Settings.from_env()
    problem = _problem(slack)
    if problem:
        print(f"pivot serve: {problem}", file=sys.stderr)
        return 2
    asyncio.run(serve(slack, settings, host, slack.port if port is None else port))
    return 0
