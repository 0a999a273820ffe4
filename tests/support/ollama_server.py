"""Run the Ollama simulator or the cassette replay server for a test, in a background thread.

    from tests.support.ollama_server import running_simulator, running_replay, set_faults

    with running_simulator(faults={"errors": 1.0}) as url:
        ollama.Client(host=url).chat(...)          # -> ResponseError 500
        set_faults(url, errors=0)                  # flip faults on the running server

    with running_replay() as url:                  # the shared recordings
        ollama.Client(host=url, headers={CASSETTE_HEADER: "streaming_chat"}).chat(...)

The servers bind 127.0.0.1 on a free port and are stopped when the block ends. The control
calls use ``urllib`` (not httpx), so an httpx instrumentation under test never sees them.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from otel_taskmaster.simulator import SimulatorServer, make_server
from otel_taskmaster.simulator.catalog import DEFAULT_MODELS
from otel_taskmaster.simulator.replay import CASSETTE_HEADER
from otel_taskmaster.simulator.simulated import CHUNKS_HEADER
from tests.support.net import free_port, wait_for_port

# shared/ sits beside the repository (in CI too: a fresh clone with a copy of shared/ beside it).
RECORDINGS_DIR = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "ollama-recordings"
__all__ = [
    "CASSETTE_HEADER",
    "CHUNKS_HEADER",
    "RECORDINGS_DIR",
    "clear_faults",
    "get_faults",
    "get_stats",
    "read_http_chunks",
    "running_replay",
    "running_simulator",
    "running_simulator_process",
    "set_faults",
]


@contextmanager
def _serving(server: SimulatorServer) -> Iterator[str]:
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@contextmanager
def running_simulator(
    faults: Mapping[str, Any] | Sequence[str] | None = None,
    *,
    time_scale: float = 0.0,
    seed: int = 0,
    models: Sequence[str] = DEFAULT_MODELS,
) -> Iterator[str]:
    """A simulator on a free loopback port; yields its base URL (``http://127.0.0.1:N``).

    ``time_scale=0`` (the default here) never sleeps; 1.0 waits like a real model would.
    """
    server = make_server(
        "127.0.0.1", 0, faults=faults, seed=seed, models=models, time_scale=time_scale
    )
    with _serving(server) as url:
        yield url


@contextmanager
def running_replay(
    directory: str | Path = RECORDINGS_DIR,
    *,
    cassettes: Sequence[str] | None = None,
    faults: Mapping[str, Any] | None = None,
    time_scale: float = 0.0,
) -> Iterator[str]:
    """A replay server for the VCR cassettes in ``directory`` (only ``cassettes``, if given).

    ``time_scale=1.0`` replays the recorded timing (first token after the recorded load and
    prompt evaluation, then the recorded gaps between chunks); 0 sends everything at once.
    """
    server = make_server(
        "127.0.0.1",
        0,
        faults=faults,
        replay_dir=directory,
        cassettes=cassettes,
        time_scale=time_scale,
    )
    with _serving(server) as url:
        yield url


@contextmanager
def running_simulator_process(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``otel-taskmaster simulate --port <free> ARGS...`` as a subprocess; yields (url, process).

    For benchmarks (the server's CPU stays out of the measured process: pass ``"--fast"``)
    and end-to-end tests. Stopped with SIGTERM when the block ends.
    """
    port = free_port()
    cli = str(Path(sys.executable).with_name("otel-taskmaster"))
    process = subprocess.Popen(
        [cli, "simulate", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _control(url: str, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url.rstrip('/')}/_simulator/{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def set_faults(url: str, **faults: Any) -> dict[str, Any]:
    """Merges ``faults`` into the running server's (``set_faults(url, errors=0.5)``)."""
    result: dict[str, Any] = _control(url, "POST", "faults", faults)
    return result


def clear_faults(url: str) -> dict[str, Any]:
    """Switches every fault off."""
    result: dict[str, Any] = _control(url, "DELETE", "faults")
    return result


def get_faults(url: str) -> dict[str, Any]:
    result: dict[str, Any] = _control(url, "GET", "faults")
    return result


def get_stats(url: str) -> dict[str, Any]:
    """``{"requests": {path: count}, "faults": {active faults}}``."""
    result: dict[str, Any] = _control(url, "GET", "stats")
    return result


def read_http_chunks(
    url: str, path: str, body: dict[str, object], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], list[bytes]]:
    """POSTs ``body`` over a raw socket and returns status, headers and the HTTP chunks.

    httpx hides chunk boundaries; this reads the wire so tests can check that every NDJSON
    line travels as its own chunk.
    """
    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n{extra}\r\n"
    ).encode() + payload
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        stream = sock.makefile("rb")
        status = int(stream.readline().split()[1])
        response_headers: dict[str, str] = {}
        while (line := stream.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            response_headers[name.strip().lower()] = value.strip()
        chunks: list[bytes] = []
        if response_headers.get("transfer-encoding") != "chunked":
            length = int(response_headers.get("content-length", "0"))
            return status, response_headers, [stream.read(length)]
        while True:
            size_line = stream.readline()
            if not size_line:
                raise ConnectionError("connection closed before the last chunk")
            size = int(size_line.strip(), 16)
            if size == 0:
                return status, response_headers, chunks
            chunks.append(stream.read(size))
            stream.readline()
