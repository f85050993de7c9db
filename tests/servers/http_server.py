"""A loopback HTTP/1.1 server standing in for the internet's HTTP APIs.

Routes map (method, exact path or path prefix) to a `Response`, JSON-able data, or a callable
taking the `Request`. Every request is recorded. Faults (`Fault.hang()`, `.garbage()`,
`.error(500, times=2)`, `.rate_limited(7)`, `.oversized(n)`, `.delay(s)`) apply to one path, a
prefix, or every request, optionally only the first N times.

    with HttpServer() as server:
        server.route("/v1/thing", {"ok": True})
        server.fault(Fault.error(500, times=2), "/v1/thing")
        ... get(server.url + "/v1/thing") ...
        assert server.requests[0].path == "/v1/thing"

The `http_server` pytest fixture yields a started server; tests/conftest.py loads it
as a plugin.
`rdap_routes(server)` installs the RDAP data set whose expected facts live in
`tests.servers.rdap_data`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

__all__ = ["Fault", "HttpServer", "Request", "Response", "http_server_fixture", "rdap_routes"]

MAX_REQUEST_BODY = 16 * 1024 * 1024
HANG_SECONDS = 30.0
GARBAGE = b"<html>\x00\xff not json {{{"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    @property
    def params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        body = json.dumps(data).encode("utf-8")
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": f"{content_type}; charset=utf-8"})


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Fault:
    """A misbehaviour. `times`: only the first N matching requests (None: every one)."""

    kind: str  # hang | garbage | status | oversized | delay
    status: int = 500
    times: int | None = None
    retry_after: str | None = None
    size: int = 0
    declare: bool = True  # oversized: announce the size in Content-Length, else stream chunks
    seconds: float = 0.0

    @classmethod
    def hang(cls, seconds: float = HANG_SECONDS, times: int | None = None) -> Fault:
        """Accept, read the request, never answer (until `seconds` pass or the server stops)."""
        return cls("hang", seconds=seconds, times=times)

    @classmethod
    def garbage(cls, times: int | None = None) -> Fault:
        """200 with a JSON content type and a body that is not JSON."""
        return cls("garbage", times=times)

    @classmethod
    def error(cls, status: int = 500, times: int | None = None) -> Fault:
        return cls("status", status=status, times=times)

    @classmethod
    def rate_limited(cls, retry_after: float | str = 7, times: int | None = None) -> Fault:
        return cls("status", status=429, retry_after=str(retry_after), times=times)

    @classmethod
    def oversized(cls, size: int, *, declare: bool = True, times: int | None = None) -> Fault:
        """A 200 body of `size` bytes, announced in Content-Length or streamed chunked."""
        return cls("oversized", size=size, declare=declare, times=times)

    @classmethod
    def delay(cls, seconds: float, times: int | None = None) -> Fault:
        """Wait `seconds`, then answer normally (latency injection)."""
        return cls("delay", seconds=seconds, times=times)


@dataclass
class _Rule:
    path: str | None  # None: every path
    prefix: bool
    method: str
    answer: Any = None
    fault: Fault | None = None
    used: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method):
            return False
        if self.path is None:
            return True
        return path.startswith(self.path) if self.prefix else path == self.path


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True
    owner: HttpServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-answer is what fault tests do on purpose; keep the rest.
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            self.owner.errors.append(repr(error))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10.0  # an idle keep-alive connection is dropped after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_REQUEST_BODY)) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parts.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            self.server.owner._answer(self, request)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    def send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def send_oversized(self, size: int, declare: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if declare:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b" " * 65536
        sent = 0
        while sent < size:
            piece = chunk[: min(len(chunk), size - sent)]
            self.wfile.write(piece if declare else b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
        if not declare:
            self.wfile.write(b"0\r\n\r\n")


class HttpServer:
    """Threaded HTTP/1.1 server on 127.0.0.1 with an ephemeral port; see the module doc."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._routes: list[_Rule] = []
        self._faults: list[_Rule] = []
        self._requests: list[Request] = []
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self.errors: list[str] = []  # unexpected exceptions in handlers, for tests to check
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> HttpServer:
        server = _Server((self._host, 0), _Handler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="http-server"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    # -- configuration ----------------------------------------------------------------------

    def route(self, path: str, answer: Any, *, method: str = "GET", prefix: bool = False) -> None:
        """Answer `method` (or "*") on `path` with a Response, a callable, or JSON-able data.

        Exact paths win over prefixes; among prefixes the longest wins.
        """
        with self._lock:
            self._routes.append(_Rule(path, prefix, method.upper(), answer=answer))

    def fault(self, fault: Fault, path: str | None = None, *, prefix: bool = False) -> None:
        """Misbehave on `path` (or a prefix, or every path when None)."""
        with self._lock:
            self._faults.append(_Rule(path, prefix, "*", fault=fault))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- serving (handler threads) ----------------------------------------------------------

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _take_faults(self, request: Request) -> list[Fault]:
        taken = []
        with self._lock:
            self._requests.append(request)
            for rule in self._faults:
                fault = rule.fault
                if not fault or not rule.matches(request.method, request.path):
                    continue
                if fault.times is None or rule.used < fault.times:
                    rule.used += 1
                    taken.append(fault)
        return taken

    def _route_for(self, request: Request) -> Any:
        with self._lock:
            found = [r for r in self._routes if r.matches(request.method, request.path)]
        exact = [r for r in found if not r.prefix]
        if exact:
            return exact[-1].answer
        if found:
            return max(found, key=lambda r: len(r.path or "")).answer
        return Response.json({"error": "not found", "path": request.path}, status=404)

    def _answer(self, handler: _Handler, request: Request) -> None:
        for fault in self._take_faults(request):
            if fault.kind == "delay":
                if self._stopping.wait(fault.seconds):
                    return
                continue
            self._misbehave(handler, fault)
            return
        answer = self._route_for(request)
        if callable(answer):
            try:
                answer = answer(request)
            except Exception as exc:
                self.errors.append(repr(exc))
                answer = Response.json({"error": "handler failed"}, status=500)
        if not isinstance(answer, Response):
            answer = Response.json(answer)
        handler.send(answer)

    def _misbehave(self, handler: _Handler, fault: Fault) -> None:
        if fault.kind == "hang":
            self._stopping.wait(fault.seconds)
            handler.close_connection = True
        elif fault.kind == "garbage":
            handler.send(Response(200, GARBAGE, {"Content-Type": "application/json"}))
        elif fault.kind == "oversized":
            handler.close_connection = True
            handler.send_oversized(fault.size, fault.declare)
        else:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            body = {"error": f"fault {fault.status}"}
            handler.send(Response.json(body, status=fault.status, headers=headers))


@pytest.fixture(name="http_server")
def http_server_fixture() -> Iterator[HttpServer]:
    """A started loopback HTTP server, stopped after the test."""
    with HttpServer() as server:
        yield server


def rdap_routes(server: HttpServer, prefix: str = "/rdap") -> None:
    """Install the recorded-style RDAP data set (see `tests.servers.rdap_data`) on `server`."""
    from tests.servers.rdap_data import install

    install(server, prefix)
