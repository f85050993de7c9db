"""An in-process fake of Slack's Web API: a real HTTP server on 127.0.0.1, in a thread.

The console renders from it. It answers the methods the bot uses (auth.test,
chat.postMessage/update/postEphemeral, reactions.add, conversations.info, the three steps of
files_upload_v2) and response URLs under /response_url/<channel>/<user>/<n>, and keeps every
message it was sent (channel, ts, thread, text, blocks). The tests' recording subclass
(tests/servers/slack_api.py) adds call inspection and failures on demand.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

JSON_FIELDS = ("blocks", "attachments", "files")
Reply = tuple[int, dict[str, str], dict[str, Any]]


@dataclass
class Posted:
    channel: str
    ts: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    user: str | None = None  # the author
    ephemeral_to: str | None = None  # set for messages only one user sees
    version: int = 0  # bumped by each chat.update

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def as_clicked(self, bot_user: str, bot_id: str) -> dict[str, Any] | None:
        """The `message` a block_actions payload carries for this post (none when ephemeral)."""
        if self.ephemeral_to is not None:
            return None
        message: dict[str, Any] = {
            "type": "message",
            "ts": self.ts,
            "text": self.text,
            "blocks": self.blocks,
            "user": bot_user,
            "bot_id": bot_id,
        }
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        return message


@dataclass
class Upload:
    file_id: str
    filename: str = ""
    title: str = ""
    content: bytes = b""
    channel: str | None = None
    thread_ts: str | None = None


def _parse_body(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
    """JSON or form arguments (slack_sdk sends some in the query string), JSON fields decoded."""
    text = raw.decode("utf-8", "replace")
    body: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if "json" in content_type:
        data = json.loads(text or "{}")
        body.update(data if isinstance(data, dict) else {"_": data})
    else:
        body.update(parse_qsl(text, keep_blank_values=True))
    for key in JSON_FIELDS:
        if isinstance(body.get(key), str):
            with contextlib.suppress(ValueError):
                body[key] = json.loads(body[key])
    return body


class FakeSlack:
    def __init__(self, *, team_id: str = "T1", user_id: str = "UBOT", bot_id: str = "BBOT") -> None:
        self.team_id, self.user_id, self.bot_id = team_id, user_id, bot_id
        self.messages: list[Posted] = []
        self.reactions: list[tuple[str, str, str]] = []  # (channel, ts, name)
        self.uploads: dict[str, Upload] = {}
        self._lock = threading.Condition()
        self._clock = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Self:
        fake: FakeSlack = self

        class Handler(_Handler):
            owner = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, channel: str, user: str) -> str:
        return f"{self.base}/response_url/{channel}/{user}/{next(self._clock)}"

    # -- what the console asks -------------------------------------------------------------

    def user_message(
        self, channel: str, text: str, user: str = "U1", thread_ts: str | None = None
    ) -> Posted:
        """Record a message a human wrote, as Slack would hold it; returns it with its ts."""
        with self._lock:
            return self._record(channel, {"text": text, "thread_ts": thread_ts}, user=user)

    def snapshot(self) -> tuple[list[Posted], list[tuple[str, str, str]], list[Upload]]:
        """Copies of the messages, reactions and uploads, safe to read while calls arrive."""
        with self._lock:
            return (
                [replace(m, blocks=list(m.blocks)) for m in self.messages],
                list(self.reactions),
                [replace(u) for u in self.uploads.values()],
            )

    # -- the API ----------------------------------------------------------------------------

    def handle(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        method = self._method_of(path)
        with self._lock:
            try:
                return self._reply(method, path, body, headers)
            finally:
                self._lock.notify_all()

    def _reply(
        self, method: str, path: str, body: dict[str, Any], _headers: dict[str, str]
    ) -> Reply:
        """Under the lock: the status, extra headers and JSON answer to one call."""
        return 200, {}, self._answer(method, path, body)

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "chat.postEphemeral": self._ephemeral,
            "reactions.add": self._react,
            "conversations.info": self._info,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

    @staticmethod
    def _method_of(path: str) -> str:
        if path.startswith("/api/"):
            return path[len("/api/") :].strip("/")
        return path.strip("/").split("/")[0]

    def _answer(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self._methods().get(method)
        if method == "response_url":
            return self._respond(path, body)
        if method == "upload":
            return self._upload(path, body)
        return answer(body) if answer else err("unknown_method")

    def _auth_test(self, _body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake",
            "user": "pivot",
            "team_id": self.team_id,
            "user_id": self.user_id,
            "bot_id": self.bot_id,
        }

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._clock)}.000100"

    def _record(
        self, channel: str, body: dict[str, Any], user: str, to: str | None = None
    ) -> Posted:
        posted = Posted(
            channel=channel,
            ts=self._next_ts(),
            text=str(body.get("text") or ""),
            blocks=list(body.get("blocks") or []),
            thread_ts=body.get("thread_ts") or None,
            user=user,
            ephemeral_to=to,
        )
        self.messages.append(posted)
        return posted

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = str(body.get("channel") or "")
        if not channel:
            return err("channel_not_found")
        posted = self._record(channel, body, user=self.user_id)
        message = {"text": posted.text, "blocks": posted.blocks, "ts": posted.ts}
        return {"ok": True, "channel": channel, "ts": posted.ts, "message": message}

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(body.get("channel") or ""), str(body.get("ts") or "")
        posted = next((m for m in self.messages if (m.channel, m.ts) == (channel, ts)), None)
        if posted is None:
            return err("message_not_found")
        posted.text = str(body.get("text") or "")
        posted.blocks = list(body.get("blocks") or [])
        posted.version += 1
        return {"ok": True, "channel": channel, "ts": ts, "text": posted.text}

    def _ephemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = str(body.get("channel") or "")
        posted = self._record(channel, body, user=self.user_id, to=str(body.get("user") or ""))
        return {"ok": True, "message_ts": posted.ts}

    def _react(self, body: dict[str, Any]) -> dict[str, Any]:
        self.reactions.append(
            (str(body.get("channel")), str(body.get("timestamp")), str(body.get("name")))
        )
        return {"ok": True}

    def _info(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = str(body.get("channel") or "")
        return {"ok": True, "channel": {"id": channel, "is_member": True}}

    def _upload_url(self, body: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._clock):06d}"
        self.uploads[file_id] = Upload(file_id, filename=str(body.get("filename") or ""))
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _upload(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        upload = self.uploads.get(path.rstrip("/").rsplit("/", 1)[-1])
        if upload is not None:
            upload.content = body.get("_raw", b"")
        return {"ok": True}

    def _complete_upload(self, body: dict[str, Any]) -> dict[str, Any]:
        files = body.get("files") or []
        for item in files:
            upload = self.uploads.get(str(item.get("id")))
            if upload is not None:
                upload.title = str(item.get("title") or "")
                upload.channel = body.get("channel_id") or None
                upload.thread_ts = body.get("thread_ts") or None
        return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}

    def _respond(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        parts = path.strip("/").split("/")
        channel, user = (parts[1], parts[2]) if len(parts) >= 3 else ("", "")
        to = None if body.get("response_type") == "in_channel" else user
        self._record(channel, body, user=self.user_id, to=to)
        return {"ok": True}


def err(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default 5 drops bursts of connections for a second
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    owner: FakeSlack
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        url = urlsplit(self.path)
        path = url.path
        content_type = self.headers.get("Content-Type") or ""
        if path.startswith("/upload/"):
            body: dict[str, Any] = {"_raw": raw}
        else:
            body = _parse_body(raw, content_type, url.query)
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, answer = self.owner.handle(path, body, headers)
        self._send(status, extra, answer)

    def _send(self, status: int, extra: dict[str, str], answer: dict[str, Any]) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the console owns the terminal and tests read calls, not logs
