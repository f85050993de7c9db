"""The console's fake of Slack's Web API, with what only tests need: every call recorded (to
assert on and wait for), a failure on demand for the next call to a method, channels the bot
is not a member of, and Socket Mode's apps.connections.open."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.console.fake_slack import FakeSlack, Posted, Reply, err


@dataclass
class Call:
    method: str  # "chat.postMessage", or "response_url" / "upload" for those paths
    body: dict[str, Any]
    headers: dict[str, str]
    path: str = ""
    at: float = field(default_factory=time.monotonic)  # when it arrived


class RecordingSlack(FakeSlack):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.calls: list[Call] = []
        self.outside: set[str] = set()  # channels the bot is not a member of
        self.socket_url: str | None = None  # what apps.connections.open hands out
        self._failures: dict[str, tuple[int, int]] = {}  # method -> (status, retry_after)

    def fail_once(self, method: str, status: int = 429, retry_after: int = 0) -> None:
        with self._lock:
            self._failures[method] = (status, retry_after)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def by_bot(self) -> list[Posted]:
        with self._lock:
            return [m for m in self.messages if m.user == self.user_id]

    def wait(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block until `predicate()` holds (checked whenever a call arrives) or time runs out."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def _reply(
        self, method: str, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> Reply:
        self.calls.append(Call(method, body, headers, path))
        failure = self._failures.pop(method, None)
        if failure is not None:
            status, retry_after = failure
            error = "ratelimited" if status == 429 else "internal_error"
            return status, {"Retry-After": str(retry_after)}, err(error)
        if method == "chat.postMessage" and str(body.get("channel")) in self.outside:
            return 200, {}, err("not_in_channel")
        return super()._reply(method, path, body, headers)

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {**super()._methods(), "apps.connections.open": self._socket}

    def _socket(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_url} if self.socket_url else err("not_allowed")
