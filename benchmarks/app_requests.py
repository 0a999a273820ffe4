"""What `opentelemetry-instrument` adds to a TaskMaster request, with and without a back end.

    .venv/bin/python benchmarks/app_requests.py                 # 5 repeats x 200 requests
    .venv/bin/python benchmarks/app_requests.py --quick         # 2 repeats x 50 requests

The example app (`examples/serve.py`) runs as a subprocess in three ways, against the Ollama
simulator in zero-delay mode (`otel-taskmaster simulate --fast`, its own process):

- `plain`:       `python examples/serve.py` (no SDK; `monitor_request` runs on the no-op API)
- `collector`:   under `opentelemetry-instrument`, exporting OTLP to a live receiver
- `no-backend`:  under `opentelemetry-instrument`, OTLP pointed at a closed port

Each variant gets a fresh app per repeat (order rotated), a warm-up, then sequential
`POST /v1/tasks` requests. Reported: client wall latency per request (median of the repeats'
medians, and of their p95s) and the app process's CPU time per request (user + system from
/proc, so the simulator's and the client's CPU are not counted), each with the added cost
over `plain` in the same repeat.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
VARIANTS = ("plain", "collector", "no-backend")
_TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not up after {timeout}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


@contextmanager
def _otlp_sink() -> Iterator[str]:
    """A live OTLP/HTTP endpoint that accepts everything (decoding is not what we measure)."""

    class Sink(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _simulator() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [str(BIN / "otel-taskmaster"), "simulate", "--fast", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{url}/api/version", process)
        yield url
    finally:
        _stop(process)


def _app_command(variant: str) -> list[str]:
    serve = str(ROOT / "examples" / "serve.py")
    if variant == "plain":
        return [sys.executable, serve]
    return [str(BIN / "opentelemetry-instrument"), sys.executable, serve]


def _app_env(variant: str, ollama: str, sink: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TASKMASTER_"))}
    env.update({"PORT": str(_free_port()), "OLLAMA_HOST": ollama})
    if variant != "plain":
        env.update(
            {
                "OTEL_PYTHON_DISTRO": "taskmaster",
                "OTEL_PYTHON_CONFIGURATOR": "taskmaster",
                "OTEL_EXPORTER_PROMETHEUS_PORT": str(_free_port()),
                "OTEL_EXPORTER_OTLP_ENDPOINT": (
                    sink if variant == "collector" else f"http://127.0.0.1:{_free_port()}"
                ),
            }
        )
    return env


def run_variant(variant: str, ollama: str, sink: str, requests: int, warmup: int) -> dict:
    env = _app_env(variant, ollama, sink)
    url = f"http://127.0.0.1:{env['PORT']}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(_app_command(variant), env=env, stdout=log, stderr=log)
        try:
            _wait_http(f"{url}/healthz", process)
            latencies = []
            with httpx.Client(base_url=url, timeout=30) as client:
                body = {"prompt": "Plan the quarterly budget review."}
                for _ in range(warmup):
                    client.post("/v1/tasks", json=body).raise_for_status()
                cpu_before = _cpu_seconds(process.pid)
                for _ in range(requests):
                    started = time.perf_counter()
                    client.post("/v1/tasks", json=body).raise_for_status()
                    latencies.append(time.perf_counter() - started)
                cpu_after = _cpu_seconds(process.pid)
        finally:
            _stop(process)
    latencies.sort()
    return {
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "cpu_ms": 1000 * (cpu_after - cpu_before) / requests,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="2 repeats x 50 requests")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.requests = 2, 50

    results: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    with _simulator() as ollama, _otlp_sink() as sink:
        for repeat in range(args.repeats):
            order = VARIANTS[repeat % 3 :] + VARIANTS[: repeat % 3]
            for variant in order:
                results[variant].append(
                    run_variant(variant, ollama, sink, args.requests, args.warmup)
                )
            print(f"repeat {repeat + 1}/{args.repeats} done", file=sys.stderr)

    print(f"\n{args.repeats} repeats x {args.requests} sequential requests, medians over repeats\n")
    print("| variant | p50 latency | p95 latency | app CPU / request | added p50 | added CPU |")
    print("|---|---|---|---|---|---|")
    for variant in VARIANTS:
        rows = results[variant]
        added_p50 = [r["p50_ms"] - b["p50_ms"] for r, b in zip(rows, results["plain"], strict=True)]
        added_cpu = [r["cpu_ms"] - b["cpu_ms"] for r, b in zip(rows, results["plain"], strict=True)]
        print(
            f"| {variant} | {statistics.median(r['p50_ms'] for r in rows):.2f} ms"
            f" | {statistics.median(r['p95_ms'] for r in rows):.2f} ms"
            f" | {statistics.median(r['cpu_ms'] for r in rows):.2f} ms"
            f" | {statistics.median(added_p50):+.2f} ms | {statistics.median(added_cpu):+.2f} ms |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
