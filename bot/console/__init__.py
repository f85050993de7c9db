"""The local console: the same app and cards, against an in-process fake of Slack's Web API."""

from bot.console.shell import run_console

__all__ = ["run_console"]
