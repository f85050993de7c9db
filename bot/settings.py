"""Slack-side configuration, read once from the environment into a frozen object.

Nothing else in bot/ reads `os.environ`; tests build `SlackSettings` directly or through
`SlackSettings.from_env({...})`. Tokens never appear in `repr`. A malformed variable raises
`ConfigError` (see `enrichment.settings.read`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from enrichment.settings import read, split_list

SLACK_API_URL = "https://slack.com/api/"


class AutoMode(StrEnum):
    REPLY = "reply"  # one threaded summary per message with indicators
    REACT = "react"  # a reaction instead, unless something scores above the threshold
    OFF = "off"


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port < 65536:  # 0: any free port
        raise ValueError(text)
    return port


def _score(text: str) -> int:
    score = int(text)
    if not 0 <= score <= 100:
        raise ValueError(text)
    return score


def _api_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ValueError(text)
    return text.rstrip("/") + "/"


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
    max_cards: int = 10  # cards one /pivot posts
    max_summary: int = 20  # lines one summary card holds

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SlackSettings:
        env = os.environ if env is None else env
        found: dict[str, Any] = {
            "bot_token": env.get("SLACK_BOT_TOKEN") or None,
            "signing_secret": env.get("SLACK_SIGNING_SECRET") or None,
            "app_token": env.get("SLACK_APP_TOKEN") or None,
            "port": read(env, "PORT", _port, "a port number from 0 to 65535"),
            "api_url": read(env, "PIVOT_SLACK_API_URL", _api_url, "an http(s) URL"),
            "auto": read(env, "PIVOT_AUTO", lambda t: AutoMode(t.lower()), "reply, react or off"),
            "auto_min_score": read(env, "PIVOT_AUTO_MIN_SCORE", _score, "a score from 0 to 100"),
            "auto_channels": read(env, "PIVOT_AUTO_CHANNELS", split_list, "channel ids"),
        }
        return cls(**{k: v for k, v in found.items() if v is not None})

    @property
    def can_serve(self) -> bool:
        """True when there is enough to talk to a real workspace."""
        return bool(self.bot_token and (self.signing_secret or self.app_token))

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)
