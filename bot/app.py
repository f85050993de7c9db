"""The Bolt AsyncApp: built from settings, a Web API client and the enrichment service.

Nothing here touches the network at construction. Authorization is either a fixed identity
(tests, the console) or one `auth.test` on the first request, remembered afterwards.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps, EnrichService
from bot.listeners import actions, commands, errors, messages, shortcuts
from bot.settings import SlackSettings
from bot.state import Store

Authorize = Callable[..., Awaitable[AuthorizeResult]]


@dataclass(frozen=True)
class Identity:
    """Who the bot is in its workspace, as auth.test would say."""

    team_id: str = "T1"
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"


@dataclass(frozen=True)
class Bot:
    app: AsyncApp
    deps: Deps

    async def drain(self) -> None:
        """Wait for the work every request started after its ack (tests, console, shutdown)."""
        await self.deps.tasks.drain()

    async def aclose(self) -> None:
        await self.deps.tasks.aclose()


def make_client(
    settings: SlackSettings, *, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """The Web API client at PIVOT_SLACK_API_URL that retries 429s and dropped connections.

    It holds no token: each request's client gets the bot token from authorization.
    """
    client = AsyncWebClient(base_url=settings.api_url, session=session, timeout=15)
    client.retry_handlers = [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
    ]
    return client


def fixed_authorize(token: str, identity: Identity) -> Authorize:
    async def authorize() -> AuthorizeResult:
        return AuthorizeResult(
            enterprise_id=None,
            team_id=identity.team_id,
            bot_user_id=identity.bot_user_id,
            bot_id=identity.bot_id,
            bot_token=token,
        )

    return authorize


def lazy_authorize(client: AsyncWebClient, token: str) -> Authorize:
    """auth.test once, on the first request, then the same answer for every request."""
    known: list[AuthorizeResult] = []
    lock = asyncio.Lock()

    async def authorize() -> AuthorizeResult:
        async with lock:
            if not known:
                response = await client.auth_test(token=token)
                known.append(
                    AuthorizeResult.from_auth_test_response(
                        bot_token=token, auth_test_response=response
                    )
                )
        return known[0]

    return authorize


def _bolt_logger() -> logging.Logger:
    # Bolt narrates every request at INFO and DEBUG (middleware, listeners, responses): noise.
    logger = logging.getLogger("bot.bolt")
    logger.setLevel(max(logging.WARNING, logger.getEffectiveLevel()))
    return logger


def build_app(
    settings: SlackSettings,
    *,
    client: AsyncWebClient,
    service: EnrichService,
    state: Store,
    identity: Identity | None = None,
    allowlist: tuple[str, ...] = (),
) -> Bot:
    token = settings.bot_token or ""
    authorize = fixed_authorize(token, identity) if identity else lazy_authorize(client, token)
    app = AsyncApp(
        name="pivot",
        # Listeners only ack and spawn their work, so running them inline is quick, and it
        # spares each request Bolt's 10 ms polling for the ack.
        process_before_response=True,
        logger=_bolt_logger(),
        signing_secret=settings.signing_secret or "",
        # HTTP requests are verified before Bolt sees them (bot.intake); Socket Mode needs none
        request_verification_enabled=False,
        client=client,
        authorize=authorize,
    )
    deps = Deps.build(settings, service, state, allowlist)
    errors.register(app, deps.response_urls)
    commands.register(app, deps)
    shortcuts.register(app, deps)
    actions.register(app, deps)
    messages.register(app, deps)
    return Bot(app, deps)


__all__ = ["Bot", "Identity", "build_app", "fixed_authorize", "lazy_authorize", "make_client"]
