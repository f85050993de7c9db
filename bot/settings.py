"""Slack-side configuration, read once from the environment into a frozen object.

Nothing else in bot/ reads `os.environ`; tests build `SlackSettings` directly or through
`SlackSettings.from_env({...})`. Tokens never appear in `repr`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from enrichment.settings import split_list

SLACK_API_URL = "https://slack.com/api/"


class AutoMode(StrEnum):
    REPLY = "reply"  # one threaded summary per message with indicators
    REACT = "react"  # a reaction instead, unless something scores above the threshold
    OFF = "off"


def _auto_mode(value: str | None) -> AutoMode:
    try:
        return AutoMode((value or "reply").strip().lower())
    except ValueError:
        raise ValueError(f"PIVOT_AUTO must be reply, react or off, not {value!r}") from None


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    port: int = 3000
    api_url: str = SLACK_API_URL
    auto: AutoMode = AutoMode.REPLY
    auto_min_score: int = 70
    auto_channels: tuple[str, ...] = ()  # channel ids; empty: every channel the bot is in
    allowlist: tuple[str, ...] = ()  # domains (and their subdomains) never auto-enriched
    max_cards: int = 10  # cards one /pivot posts
    max_summary: int = 20  # lines one summary card holds

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SlackSettings:
        env = os.environ if env is None else env
        api_url = env.get("PIVOT_SLACK_API_URL") or SLACK_API_URL
        return cls(
            bot_token=env.get("SLACK_BOT_TOKEN") or None,
            signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            app_token=env.get("SLACK_APP_TOKEN") or None,
            port=int(env.get("PORT") or cls.port),
            api_url=api_url.rstrip("/") + "/",
            auto=_auto_mode(env.get("PIVOT_AUTO")),
            auto_min_score=int(env.get("PIVOT_AUTO_MIN_SCORE") or cls.auto_min_score),
            auto_channels=split_list(env.get("PIVOT_AUTO_CHANNELS")),
            allowlist=tuple(d.lower().strip(".") for d in split_list(env.get("PIVOT_ALLOWLIST"))),
        )

    @property
    def can_serve(self) -> bool:
        """True when there is enough to talk to a real workspace."""
        return bool(self.bot_token and (self.signing_secret or self.app_token))

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)
