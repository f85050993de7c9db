"""Which response URLs the bot may post to: Slack's own.

A payload names its `response_url`, and whoever can reach the HTTP endpoint can put any URL
there. Only `https://hooks.slack.com/...` (and, when `PIVOT_SLACK_API_URL` points elsewhere,
a fake or proxy of Slack, that host) is ever posted to; any other is logged by host and
ignored, by the listeners' `respond` and by the error handler alike.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from bot.settings import SLACK_API_URL, SlackSettings

log = logging.getLogger("bot.response_urls")

SLACK_HOOKS = "hooks.slack.com"


class ResponseUrls:
    def __init__(self, settings: SlackSettings) -> None:
        self._own = None
        if settings.api_url != SLACK_API_URL:
            parts = urlsplit(settings.api_url)
            self._own = (parts.scheme, parts.netloc.lower())

    def allows(self, url: object) -> bool:
        """True for a URL of Slack's (or of the configured stand-in for Slack's Web API)."""
        if not isinstance(url, str):
            return False
        parts = urlsplit(url)
        origin = (parts.scheme, parts.netloc.lower())
        slack = parts.scheme == "https" and parts.netloc.lower() == SLACK_HOOKS
        return slack or (self._own is not None and origin == self._own)

    def refuse(self, url: object) -> None:
        host = urlsplit(url).hostname if isinstance(url, str) else None
        log.warning("ignored a response_url outside Slack (host %r)", (host or "?")[:80])


class Ignored:
    """Stands in for Bolt's `respond` when the payload's response_url is not Slack's."""

    async def __call__(self, *_args: Any, **_kwargs: Any) -> None:
        return None
