"""The HTTP side: a standard-library, keep-alive, chunked-streaming server for an app.

An *app* is the :class:`~otel_taskmaster.simulator.simulated.Simulator` or the
:class:`~otel_taskmaster.simulator.replay.Replayer`: ``handle(method, path, body, headers)``
returns a :class:`Response`. This module adds the control endpoint both share:

``GET /_simulator/faults``      the current faults (JSON object)
``POST /_simulator/faults``     merge a JSON object of faults, e.g. ``{"errors": 0.5}``
``PUT /_simulator/faults``      replace all faults with the JSON object
``DELETE /_simulator/faults``   switch every fault off
``GET /_simulator/stats``       requests served per path; ``DELETE`` resets the counts
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from otel_taskmaster.simulator.catalog import DEFAULT_MODELS
from otel_taskmaster.simulator.faults import FaultBox, FaultError, Faults
from otel_taskmaster.simulator.replay import Replayer, load_recordings
from otel_taskmaster.simulator.responses import (
    Disconnect,
    Response,
    json_response,
    ollama_error,
)
from otel_taskmaster.simulator.simulated import ROUTED_PATHS, Simulator

_logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024 * 1024
_MAX_HEADERS = 100
_MAX_HEADER_LINE = 65536
_DATE_CACHE: list[Any] = [0, ""]
CONTROL_PREFIX = "/_simulator/"


class App(Protocol):
    faults: FaultBox

    def handle(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Response: ...


class _BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Headers(dict[str, str]):
    """Request headers keyed by lower-case name (a cheap stand-in for ``email.message``)."""

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked streams as Ollama sends them
    server_version = "otel-taskmaster-simulator"
    sys_version = ""
    # Protocol-level errors in plain text, as Go's net/http writes them.
    error_message_format = "%(code)d %(message)s"
    error_content_type = "text/plain; charset=utf-8"
    server: SimulatorServer
    # BaseHTTPRequestHandler attributes the type stubs leave out or type as email messages.
    _headers_buffer: list[bytes]
    raw_requestline: bytes
    headers: _Headers  # type: ignore[assignment]

    def parse_request(self) -> bool:
        """HTTP/1.x request line and headers, without the ``email`` parser's per-request cost."""
        self.command = ""  # until the request line is known, as the base class does
        self.request_version = "HTTP/1.0"  # so even a garbled request gets a status line
        self.close_connection = True
        line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = line
        words = line.split()
        if not words:
            return False
        if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
            self.send_error(400, f"Bad request syntax ({line!r})")
            return False
        self.command, self.path, self.request_version = words
        headers = _Headers()
        for _ in range(_MAX_HEADERS):
            raw = self.rfile.readline(_MAX_HEADER_LINE + 1)
            if len(raw) > _MAX_HEADER_LINE:
                self.send_error(431, "Line too long")
                return False
            if raw in (b"\r\n", b"\n", b""):
                break
            name, sep, value = str(raw, "iso-8859-1").partition(":")
            if not sep:
                self.send_error(400, "Malformed header line")
                return False
            headers[name.strip().lower()] = value.strip()
        else:
            self.send_error(431, "Too many headers")
            return False
        self.headers = headers
        connection = headers.get("connection", "").lower()
        self.close_connection = connection == "close" or (
            self.request_version == "HTTP/1.0" and connection != "keep-alive"
        )
        if headers.get("expect", "").lower() == "100-continue":
            self.send_response_only(100)
            self.end_headers()
        return True

    def date_time_string(self, timestamp: float | None = None) -> str:
        # Formatting the Date header costs more than the rest of a response; once a second.
        now = int(time.time() if timestamp is None else timestamp)
        cached = _DATE_CACHE
        if cached[0] != now:
            cached[:] = [now, super().date_time_string(now)]
        return str(cached[1])

    def setup(self) -> None:
        super().setup()
        # Like Go's net/http (Ollama): no Nagle delay on small writes such as stream chunks.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def _serve(self, method: str) -> None:
        path = urlsplit(self.path).path
        self.server.count(path)
        try:
            body = self._read_body()
        except _BodyError as exc:
            self.close_connection = True
            self._write(ollama_error(exc.status, str(exc)), head_only=False)
            return
        route_method = "GET" if method == "HEAD" else method
        try:
            if path.startswith(CONTROL_PREFIX):
                response = self.server.control(route_method, path, body)
            else:
                response = self.server.app.handle(route_method, path, body, self.headers)
        except Exception as exc:  # a simulator bug must not take the server down
            _logger.exception("simulator failed on %s %s", method, path)
            response = ollama_error(500, f"simulator internal error: {exc}")
        self._write(response, head_only=method == "HEAD")

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if not raw:
            return b""
        try:
            length = int(raw)
        except ValueError:
            raise _BodyError(400, "invalid Content-Length") from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise _BodyError(413, "http: request body too large")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _BodyError(400, "invalid chunked body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BodyError(413, "http: request body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _write(self, response: Response, head_only: bool) -> None:
        try:
            if response.chunks is None:
                self._write_whole(response, head_only)
            else:
                self._write_stream(response, head_only)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing left to tell it

    def _write_whole(self, response: Response, head_only: bool) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        if head_only:
            self.end_headers()
            return
        if response.cut_after is not None:
            self.end_headers()
            self.wfile.write(response.body[: response.cut_after])
            self._drop()
            return
        self._end_headers_with(response.body)

    def _end_headers_with(self, data: bytes) -> None:
        """Ends the headers and sends ``data`` in the same write (one syscall, one packet)."""
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(data)
        self.flush_headers()

    def _write_stream(self, response: Response, head_only: bool) -> None:
        assert response.chunks is not None
        chunks = iter(response.chunks)
        try:
            # Headers go out with the first chunk, as Ollama's do, so the wait for the
            # first token (model load + prompt eval) happens before the response starts.
            first = next(chunks, None)
        except Disconnect:
            self._drop()
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        if head_only:
            self.end_headers()
            return
        self._end_headers_with(b"%X\r\n%s\r\n" % (len(first), first) if first else b"")
        write = self.wfile.write
        try:
            for chunk in chunks:
                if chunk:
                    write(b"%X\r\n%s\r\n" % (len(chunk), chunk))
        except Disconnect:
            self._drop()
            return
        write(b"0\r\n\r\n")

    def _drop(self) -> None:
        """Closes the connection mid-response, the way a crashing server would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class SimulatorServer(ThreadingHTTPServer):
    """A threading HTTP server around one app, with a control endpoint for faults."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App, verbose: bool = False) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.verbose = verbose
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = str(host)
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def count(self, path: str) -> None:
        # Only a bounded set of paths is counted, so random paths cannot grow the table.
        key = path if path in ROUTED_PATHS or path.startswith(CONTROL_PREFIX) else "(other)"
        if len(key) > 64:
            key = "(other)"
        with self._counts_lock:
            self._counts[key] += 1

    def control(self, method: str, path: str, body: bytes) -> Response:
        faults = self.app.faults
        if path == CONTROL_PREFIX + "faults":
            if method == "GET":
                return json_response(faults.current.as_dict())
            if method == "DELETE":
                return json_response(faults.clear().as_dict())
            if method in ("POST", "PUT"):
                try:
                    values = json.loads(body or b"{}")
                    if not isinstance(values, dict):
                        raise FaultError("faults must be a JSON object")
                    if method == "PUT":
                        Faults().updated(values)  # validate before clearing anything
                        faults.clear()
                    return json_response(faults.update(values).as_dict())
                except (ValueError, FaultError) as exc:
                    return ollama_error(400, str(exc))
        if path == CONTROL_PREFIX + "stats":
            with self._counts_lock:
                if method == "DELETE":
                    self._counts.clear()
                counts = dict(self._counts)
            return json_response({"requests": counts, "faults": faults.current.active()})
        return ollama_error(404, f"unknown control endpoint {method} {path}")

    def start(self) -> SimulatorServer:
        """Serves in a daemon thread; returns self (``stop()`` ends it)."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def make_server(
    host: str = "127.0.0.1",
    port: int = 11434,
    *,
    faults: Faults | Mapping[str, Any] | Sequence[str] | None = None,
    seed: int = 0,
    models: Sequence[str] = DEFAULT_MODELS,
    time_scale: float = 1.0,
    replay_dir: str | Path | None = None,
    cassettes: Sequence[str] | None = None,
    verbose: bool = False,
) -> SimulatorServer:
    """Builds (does not start) a simulator, or a replay server when ``replay_dir`` is given.

    ``port=0`` picks a free port; read it back from ``server.url``.
    """
    box = FaultBox(_as_faults(faults), seed=seed)
    app: App
    if replay_dir is not None:
        app = Replayer(load_recordings(replay_dir, cassettes), box, time_scale=time_scale)
    else:
        app = Simulator(models=models, faults=box, time_scale=time_scale)
    return SimulatorServer((host, port), app, verbose=verbose)


def _as_faults(value: Faults | Mapping[str, Any] | Sequence[str] | None) -> Faults:
    if value is None:
        return Faults()
    if isinstance(value, Faults):
        return value
    if isinstance(value, Mapping):
        return Faults().updated(value)
    return Faults.parse(value)
