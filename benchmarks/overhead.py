"""What the Ollama instrumentation adds to each call: CPU and wall time, and memory over a long run.

    .venv/bin/python benchmarks/overhead.py                 # 5 repeats, the Markdown table
    .venv/bin/python benchmarks/overhead.py --quick         # a short run to try it out
    .venv/bin/python benchmarks/overhead.py --json          # machine-readable
    .venv/bin/python benchmarks/overhead.py --memory        # 100,000 instrumented calls, RSS

Scenarios, all with the real ``ollama`` client against the simulator in zero-delay mode
(``--fast``), run in its own process so its CPU is not counted as the client's:

- ``chat``:      a non-streaming chat (64-token answer), ``ollama.Client``
- ``stream64``:  a streaming chat, 64 token chunks (+ the final ``done`` line)
- ``stream16``:  the same with 16 token chunks
- ``stream256``: the same with 256 token chunks; the cost per chunk is the slope between the
                 shortest and the longest stream run (16 to 256: 240 chunks, so a call's noise
                 shrinks 240-fold; 16 to 64 without it)
- ``async8``:    8 concurrent chats, ``ollama.AsyncClient`` + ``asyncio.gather`` (per call)

Variants, each in a fresh subprocess (global providers cannot be reset in-process), with the
same warm-up, their order rotated from one repeat to the next:

- ``none``:         uninstrumented
- ``ours``:         the production setup: ``TaskMasterDistro`` defaults, ``TaskMasterConfigurator``
                    (SDK: BatchSpanProcessor + OTLP/HTTP traces, periodic OTLP + Prometheus
                    metric readers, OTLP logs; then the JSON request logs, model probe,
                    export-error filter and the quality processor with drift), the
                    ``opentelemetry-instrumentation-logging`` handler and ``OllamaInstrumentor``
- ``ours-no-quality``: ours without the quality processor (so without response features,
                    scores and drift): traces, metrics, logs; not run by default
- ``ours-lean``:    ours with traces and metrics only (no logs, quality, drift or probe);
                    not run by default; with the two above it tells where the time goes
- ``openllmetry``:  ``opentelemetry-instrumentation-ollama`` on the same SDK traces + metrics
                    setup (OTLP/HTTP traces, OTLP + Prometheus metrics), content capture off
                    (``TRACELOOP_TRACE_CONTENT=false``) as ours is by default
- ``floor``, ``floor-lean``: the uninstrumented call, then exactly what ours (ours-lean)
                    emitted for such a call (span, events, log records, measurements) emitted
                    again through the same SDK pipeline, with none of our code: the SDK's
                    price of those outputs (see ``sdk_floor.py``); not run by default

Telemetry goes to a stdlib OTLP/HTTP sink (another process) that answers 200. A block of calls
is timed with ``time.perf_counter`` and ``time.process_time`` (every thread of the client
process, so the batch exporter's work counts) and includes a ``force_flush`` of spans and logs
at its end, so export is paid for by the calls that caused it. Each worker runs its blocks
``--rounds`` times and keeps the median; the table shows medians over ``--repeats`` workers,
and the added time is the median of the per-repeat differences to ``none``.

The cost per streamed chunk is measured twice. The slope between the short and the long
stream across workers is the simple reading, but a chunk costs the client ~20 µs and the
same block on this machine varies by ±15%, so 1 µs drowns. The paired reading
(``--ab-pairs``) runs, in one worker per variant and repeat, pairs of identical calls with
the instrumentation on and off one right after the other (its patches removed; OpenLLMetry,
whose ``uninstrument()`` leaves a patch behind, suppressed instead), on the calling thread's
CPU clock, and takes the difference of the median added time of long and short streams.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

MODEL = "llama3.2"
MESSAGES = [{"role": "user", "content": "Plan my week: three tasks, one line each."}]
CHUNKS_HEADER = "x-simulator-chunks"  # otel_taskmaster.simulator.simulated.CHUNKS_HEADER
SCENARIOS = ("chat", "stream64", "stream16", "stream256", "async8")
STREAM_CHUNKS = {"stream16": 16, "stream64": 64, "stream256": 256}
CONCURRENCY = 8
VARIANTS = ("none", "ours", "ours-no-quality", "ours-lean", "openllmetry", "floor", "floor-lean")
OURS = ("ours", "ours-no-quality", "ours-lean")
# The SDK's price of an ours variant's outputs, replayed without our code (sdk_floor.py).
FLOORS = {"floor": "ours", "floor-lean": "ours-lean"}
DEFAULT_VARIANTS = ("none", "ours", "openllmetry")
# Env common to every worker; the variant adds its own (see _variant_env).
_BASE_ENV = {
    "OTEL_SERVICE_NAME": "overhead-benchmark",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    "OTEL_METRIC_EXPORT_INTERVAL": "15000",
    "OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1",
}


# --- the servers (separate processes) -------------------------------------------------------


def _serve_simulator(conn: Connection) -> None:
    from otel_taskmaster.simulator.server import make_server

    server = make_server("127.0.0.1", 0, time_scale=0.0)
    # Without TCP_NODELAY, delayed ACKs add ~40 ms to every loopback call and the wall time
    # would measure the kernel, not the client.
    handler: Any = server.RequestHandlerClass
    server.RequestHandlerClass = type("_NoDelay", (handler,), {"disable_nagle_algorithm": True})
    conn.send(server.url)
    server.serve_forever(poll_interval=0.2)


class _SinkHandler(BaseHTTPRequestHandler):
    """Takes any OTLP/HTTP export and answers 200 with an empty (valid) protobuf response."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    counts: dict[str, int] = {}

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.counts[self.path] = self.counts.get(self.path, 0) + 1
        self._reply(200, b"", "application/x-protobuf")

    def do_GET(self) -> None:
        self._reply(200, json.dumps(self.counts).encode(), "application/json")

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve_sink(conn: Connection) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SinkHandler)
    server.daemon_threads = True
    conn.send(f"http://127.0.0.1:{server.server_address[1]}")
    server.serve_forever(poll_interval=0.2)


@contextmanager
def _servers() -> Iterator[tuple[str, str]]:
    """(simulator URL, OTLP sink URL), each served by its own process until the block ends."""
    context = multiprocessing.get_context("fork")
    processes = []
    urls = []
    try:
        for target in (_serve_simulator, _serve_sink):
            parent, child = context.Pipe()
            process = context.Process(target=target, args=(child,), daemon=True)
            process.start()
            processes.append(process)
            if not parent.poll(30):
                raise RuntimeError(f"{target.__name__} did not start")
            urls.append(parent.recv())
        yield urls[0], urls[1]
    finally:
        for process in processes:
            process.terminate()
            process.join(5)


@contextmanager
def in_this_process(variant: str, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """For the scripts that measure inside one process (``app_span.py``, ``scoring_path.py``):
    starts the servers, applies a worker's environment for ``variant`` to this process and
    yields the simulator's URL; our JSON request lines (one per call, on stderr) go to
    nowhere, at the cost of a write each, as to a log file. At the end the global providers
    are flushed and stopped while the sink still answers."""
    with _servers() as (url, sink):
        for key in [k for k in os.environ if k.startswith(("OTEL_", "TASKMASTER_"))]:
            del os.environ[key]
        os.environ.update(_variant_env(variant, url, sink))
        os.environ.update(extra_env or {})
        stderr = sys.stderr
        with open(os.devnull, "w") as sys.stderr:
            try:
                yield url
            finally:
                _shutdown_providers()
                sys.stderr = stderr


def _shutdown_providers() -> None:
    """Flushes and stops the global providers (exporters, readers, the model probe)."""
    from opentelemetry import metrics, trace
    from opentelemetry._logs import get_logger_provider

    for provider in (trace.get_tracer_provider(), metrics.get_meter_provider()):
        getattr(provider, "shutdown", lambda: None)()
    getattr(get_logger_provider(), "shutdown", lambda: None)()


def _sink_counts(sink_url: str) -> dict[str, int]:
    with urllib.request.urlopen(sink_url + "/stats", timeout=10) as response:
        counts: dict[str, int] = json.load(response)
    return counts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the worker (one variant, one fresh process) --------------------------------------------


def _span_counter(name_part: str = "chat") -> Any:
    """A span processor counting ended spans whose name holds ``name_part``; for chat spans,
    proof that a variant traced each call."""
    from opentelemetry.sdk.trace import SpanProcessor

    class SpanCounter(SpanProcessor):
        count = 0

        def on_end(self, span: Any) -> None:
            if name_part in span.name:
                self.count += 1

    return SpanCounter()


def _setup(variant: str) -> tuple[Callable[[], None], Any]:
    """Installs the variant's telemetry; returns (flush spans + logs, span counter)."""
    counter = _span_counter()
    if variant == "none":
        return (lambda: None), counter
    if variant in FLOORS:
        return _setup(FLOORS[variant])
    if variant in OURS:
        from otel_taskmaster.distro import TaskMasterDistro
        from otel_taskmaster.distro.configurator import TaskMasterConfigurator
        from otel_taskmaster.instrumentation.ollama import OllamaInstrumentor

        # What `opentelemetry-instrument` does: distro defaults, configurator, instrumentors
        # (logging puts the OTel handler on the root logger; ours-lean exports no logs).
        TaskMasterDistro().configure()
        TaskMasterConfigurator().configure()
        if variant != "ours-lean":
            from opentelemetry.instrumentation.logging import LoggingInstrumentor

            LoggingInstrumentor().instrument()
        OllamaInstrumentor().instrument()
    elif variant == "openllmetry":
        from opentelemetry.instrumentation.ollama import OllamaInstrumentor as OpenLLMetry
        from opentelemetry.sdk._configuration import _OTelSDKConfigurator

        _OTelSDKConfigurator().configure()
        OpenLLMetry().instrument()
    else:
        raise ValueError(f"unknown variant {variant!r}")

    from opentelemetry import trace
    from opentelemetry._logs import get_logger_provider

    tracer_provider: Any = trace.get_tracer_provider()
    tracer_provider.add_span_processor(counter)
    logger_provider: Any = get_logger_provider()

    def flush() -> None:
        tracer_provider.force_flush()
        if hasattr(logger_provider, "force_flush"):
            logger_provider.force_flush()

    return flush, counter


class _Calls:
    """The scenarios as callables on the real clients."""

    def __init__(self, url: str) -> None:
        import ollama

        # One client per stream length: the simulator reads the chunk count from a header.
        self.clients = {
            chunks: ollama.Client(host=url, headers={CHUNKS_HEADER: str(chunks)})
            for chunks in sorted({64, *STREAM_CHUNKS.values()})
        }
        self.async64 = ollama.AsyncClient(host=url, headers={CHUNKS_HEADER: "64"})
        self.loop = asyncio.new_event_loop()
        # The floor variants' replay of a call's telemetry, by the call's shape.
        self.after_call: Callable[[str], None] | None = None

    def chat(self) -> None:
        self.clients[64].chat(model=MODEL, messages=MESSAGES)
        if self.after_call:
            self.after_call("chat")

    def stream(self, chunks: int) -> None:
        for _ in self.clients[chunks].chat(model=MODEL, messages=MESSAGES, stream=True):
            pass
        if self.after_call:
            self.after_call(f"stream{chunks}")

    async def _gather(self, batches: int) -> None:
        for _ in range(batches):
            await asyncio.gather(
                *(self.async64.chat(model=MODEL, messages=MESSAGES) for _ in range(CONCURRENCY))
            )
            if self.after_call:
                for _ in range(CONCURRENCY):
                    self.after_call("chat")

    @classmethod
    def for_variant(cls, variant: str, url: str) -> _Calls:
        """The calls; for a floor variant, each followed by the replay of its telemetry."""
        calls = cls(url)
        if variant in FLOORS:
            import sdk_floor

            shapes: dict[str, Callable[[], None]] = {"chat": calls.chat}
            for chunks in STREAM_CHUNKS.values():
                shapes[f"stream{chunks}"] = functools.partial(calls.stream, chunks)
            calls.after_call = sdk_floor.Replayer(shapes)
        return calls

    def async8(self, batches: int) -> None:
        self.loop.run_until_complete(self._gather(batches))


def _block(
    calls: _Calls, scenario: str, n: int, flush: Callable[[], None], counter: Any
) -> dict[str, float]:
    """Times n calls of one scenario (flush included); per-call wall and CPU in µs."""
    before = counter.count
    wall, cpu = time.perf_counter(), time.process_time()
    if scenario == "async8":
        batches = max(1, n // CONCURRENCY)
        calls.async8(batches)
        n = batches * CONCURRENCY
    elif scenario in STREAM_CHUNKS:
        chunks = STREAM_CHUNKS[scenario]
        for _ in range(n):
            calls.stream(chunks)
    else:
        for _ in range(n):
            calls.chat()
    flush()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "wall_us": wall / n * 1e6,
        "cpu_us": cpu / n * 1e6,
        "spans_per_call": (counter.count - before) / n,
    }


def _worker(args: argparse.Namespace) -> int:
    flush, counter = _setup(args.worker)
    calls = _Calls.for_variant(args.worker, args.url)
    for scenario in args.scenarios:  # identical warm-up in every variant
        _block(calls, scenario, args.warmup, flush, counter)
    rounds: dict[str, list[dict[str, float]]] = {s: [] for s in args.scenarios}
    for _ in range(args.rounds):
        for scenario in args.scenarios:
            gc.collect()  # a collection left over from the previous block is not this one's
            rounds[scenario].append(_block(calls, scenario, args.calls, flush, counter))
    result = {
        scenario: {key: statistics.median(r[key] for r in values) for key in values[0]}
        for scenario, values in rounds.items()
    }
    Path(args.out).write_text(json.dumps(result))
    return 0


def _switch(variant: str) -> Callable[[bool], None]:
    """Turns the variant's instrumentation on or off in a running process."""
    if variant in OURS:
        from otel_taskmaster.instrumentation.ollama import OllamaInstrumentor

        ours = OllamaInstrumentor()  # a singleton: the one _setup instrumented
        return lambda on: ours.instrument() if on else ours.uninstrument()
    # OpenLLMetry's uninstrument() leaves its Client._request patch in place (the paired
    # worker's span check caught it), so "off" is its own suppression key, checked first.
    from opentelemetry import context
    from opentelemetry.instrumentation.utils import _SUPPRESS_INSTRUMENTATION_KEY

    tokens: list[Any] = []

    def switch(on: bool) -> None:
        if on and tokens:
            context.detach(tokens.pop())
        elif not on and not tokens:
            tokens.append(context.attach(context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True)))

    return switch


def _chunk_ab_worker(args: argparse.Namespace) -> int:
    """Per-chunk cost from pairs of calls in one process: the same stream with the
    instrumentation on, then off (or off, then on), so the two calls of a pair share the
    machine's state of the moment. Pairs for the short and the long stream alternate; the
    per-chunk cost is the difference of their median added CPU over the extra chunks.

    CPU is the calling thread's: everything that grows with the chunks runs there (the
    wrapper, the parse at the end, the features); the exporters' threads work per call and
    per interval, and their wake-ups were most of the noise of a whole-process clock."""
    flush, counter = _setup(args.worker)
    switch = _switch(args.worker)
    calls = _Calls.for_variant(args.worker, args.url)
    ends = [chunks for chunks, _ in _stream_ends(args.scenarios)]
    for chunks in ends:
        for on in (True, False):
            switch(on)
            for _ in range(args.warmup):
                calls.stream(chunks)
    # A full collection over the start-up heap costs milliseconds and lands at random; frozen,
    # collections only walk what the calls allocate (ours included).
    gc.collect()
    gc.freeze()
    spans = counter.count
    added: dict[int, list[float]] = {chunks: [] for chunks in ends}
    for pair in range(args.ab_pairs):
        for chunks in ends:
            cpu = {}
            for on in (True, False) if pair % 2 else (False, True):
                switch(on)
                started = time.thread_time()
                calls.stream(chunks)
                cpu[on] = time.thread_time() - started
            added[chunks].append((cpu[True] - cpu[False]) * 1e6)
    flush()
    # Proof the switch worked: one span per call made with it on, none with it off.
    if counter.count - spans != len(ends) * args.ab_pairs:
        raise RuntimeError(f"{counter.count - spans} spans for {args.ab_pairs} pairs")
    Path(args.out).write_text(json.dumps({str(chunks): pairs for chunks, pairs in added.items()}))
    return 0


def _profile_worker(args: argparse.Namespace) -> int:
    import cProfile
    import io
    import pstats

    flush, counter = _setup(args.worker)
    calls = _Calls.for_variant(args.worker, args.url)
    for scenario in SCENARIOS:
        _block(calls, scenario, args.warmup, flush, counter)
    profiler = cProfile.Profile()
    profiler.enable()
    _block(calls, args.profile, args.calls, flush, counter)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    # Only the telemetry side: the clients' own frames are the same in every variant.
    stats.sort_stats("cumulative").print_stats("otel_taskmaster|opentelemetry", args.profile_top)
    stats.sort_stats("tottime").print_stats(args.profile_top)
    Path(args.out).write_text(text.getvalue())
    return 0


def _memory_worker(args: argparse.Namespace) -> int:
    import tracemalloc

    flush, counter = _setup(args.worker)
    calls = _Calls.for_variant(args.worker, args.url)
    for _ in range(args.warmup):
        calls.chat()
    flush()
    if args.tracemalloc:
        tracemalloc.start()
    samples = []
    for done in range(0, args.memory_calls + 1, args.sample_every):
        if done:
            for _ in range(args.sample_every):
                calls.chat()
        flush()
        gc.collect()
        samples.append(
            {
                "calls": done,
                "rss_kib": _rss_kib(),
                "traced_kib": tracemalloc.get_traced_memory()[0] / 1024 if args.tracemalloc else 0,
                "gc_objects": len(gc.get_objects()),
                "spans": counter.count,
            }
        )
    Path(args.out).write_text(json.dumps(samples))
    return 0


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- the driver -----------------------------------------------------------------------------


def _variant_env(variant: str, url: str, sink: str, ours_env: Sequence[str] = ()) -> dict[str, str]:
    if variant in FLOORS:
        # The model probe is our code on its own clock, not part of the SDK's price.
        env = _variant_env(FLOORS[variant], url, sink, ours_env)
        env["TASKMASTER_MODEL_PROBE_INTERVAL"] = "0"
        return env
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TASKMASTER_"))}
    env.update(_BASE_ENV)
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink
    env["OTEL_EXPORTER_PROMETHEUS_PORT"] = str(_free_port())
    env["OLLAMA_HOST"] = url
    if variant == "ours-lean":
        env.update(
            OTEL_LOGS_EXPORTER="none",
            OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED="false",
            TASKMASTER_QUALITY_ENABLED="false",
            TASKMASTER_LOG_FORMAT="off",
            TASKMASTER_MODEL_PROBE_INTERVAL="0",
        )
    elif variant == "ours-no-quality":
        env.update(TASKMASTER_QUALITY_ENABLED="false")
    elif variant == "openllmetry":
        env.update(
            OTEL_TRACES_EXPORTER="otlp",
            OTEL_METRICS_EXPORTER="otlp,prometheus",
            OTEL_LOGS_EXPORTER="none",
            TRACELOOP_TRACE_CONTENT="false",
        )
    if variant in OURS:
        env.update(item.split("=", 1) for item in ours_env)  # type: ignore[misc]  # checked in main
    return env


def _run_worker(
    variant: str,
    url: str,
    sink: str,
    extra: Sequence[str],
    raw: bool = False,
    ours_env: Sequence[str] = (),
) -> Any:
    with tempfile.TemporaryDirectory(prefix="overhead-") as tmp:
        out = Path(tmp, "result.json")
        # Our JSON request logs go to stderr, one line a call: a file, as in production.
        with open(Path(tmp, "stderr.log"), "w+b") as stderr:
            command = [sys.executable, __file__, "--worker", variant, "--url", url]
            proc = subprocess.run(
                [*command, "--out", str(out), *extra],
                env=_variant_env(variant, url, sink, ours_env),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                check=False,
            )
            if proc.returncode != 0 or not out.exists():
                stderr.seek(0)
                tail = stderr.read()[-4000:].decode(errors="replace")
                raise RuntimeError(f"worker {variant} failed ({proc.returncode}):\n{tail}")
        return out.read_text() if raw else json.loads(out.read_text())


def _med(values: Sequence[float]) -> float:
    return statistics.median(values)


def _summarize(runs: dict[str, list[dict[str, dict[str, float]]]]) -> dict[str, Any]:
    """Medians per variant and scenario, and the median of per-repeat differences to none."""
    base = runs["none"]
    scenarios = [s for s in SCENARIOS if s in base[0]]
    summary: dict[str, Any] = {}
    for variant, repeats in runs.items():
        pairs = list(zip(repeats, base, strict=True))
        per: dict[str, Any] = {}
        for scenario in scenarios:
            row: dict[str, Any] = {}
            for key in ("wall_us", "cpu_us", "spans_per_call"):
                row[key] = _med([r[scenario][key] for r in repeats])
            for key in ("wall_us", "cpu_us"):
                diffs = [r[scenario][key] - b[scenario][key] for r, b in pairs]
                row["added_" + key] = _med(diffs)
                row["added_" + key + "_range"] = [min(diffs), max(diffs)]
            per[scenario] = row
        if sum(s in STREAM_CHUNKS for s in scenarios) >= 2:
            per["per_chunk"] = _per_chunk(repeats, pairs, *_stream_ends(scenarios))
        summary[variant] = per
    return summary


def _stream_ends(scenarios: Sequence[str]) -> list[tuple[int, str]]:
    """(chunks, name) of the shortest and the longest stream scenario."""
    streams = sorted((STREAM_CHUNKS[s], s) for s in scenarios if s in STREAM_CHUNKS)
    if len(streams) < 2:
        raise ValueError("the per-chunk cost needs two stream scenarios")
    return [streams[0], streams[-1]]


def _per_chunk(
    repeats: list[Any],
    pairs: list[tuple[Any, Any]],
    short: tuple[int, str],
    long: tuple[int, str],
) -> dict[str, Any]:
    chunk: dict[str, Any] = {"between": [short[1], long[1]]}

    def slope(run: dict[str, dict[str, float]], key: str) -> float:
        """µs per streamed chunk: the long stream's extra time over its extra chunks."""
        return (run[long[1]][key] - run[short[1]][key]) / (long[0] - short[0])

    for key in ("wall_us", "cpu_us"):
        slopes = [slope(r, key) for r in repeats]
        added = [slope(r, key) - slope(b, key) for r, b in pairs]
        chunk[key] = _med(slopes)
        chunk["added_" + key] = _med(added)
        chunk["added_" + key + "_range"] = [min(added), max(added)]
    return chunk


def _verdict_label(variant: str) -> str:
    return "ours" if variant == "ours" else f"{variant} (reference)"


def _verdicts(summary: dict[str, Any]) -> list[str]:
    """The issue's targets for "ours" (everything on); other ours variants for reference."""
    lines = []
    scenarios = [s for s in SCENARIOS if s in summary.get("none", {})]
    for variant in (v for v in OURS if v in summary and "openllmetry" in summary):
        label = _verdict_label(variant)
        for scenario in scenarios:
            ours, theirs = summary[variant][scenario], summary["openllmetry"][scenario]
            lines.append(
                f"- {scenario}: {label} adds {ours['added_cpu_us']:.0f} µs CPU/call, "
                f"OpenLLMetry {theirs['added_cpu_us']:.0f}: {_per_call_verdict(ours, theirs)}"
            )
    lines += _floor_lines(summary, scenarios)
    for variant in (v for v in OURS if v in summary):
        label = _verdict_label(variant)
        if "per_chunk_ab" in summary[variant]:
            added = summary[variant]["per_chunk_ab"]["added_cpu_us"]
            how = "paired on/off in one process"
        elif "per_chunk" in summary[variant]:
            added = summary[variant]["per_chunk"]["added_cpu_us"]
            how = " to ".join(summary[variant]["per_chunk"]["between"])
        else:
            continue
        verdict = "met" if added <= 1.0 else f"MISSED by {added - 1.0:.2f} µs"
        lines.append(
            f"- per streamed chunk ({how}): {label} adds {added:.2f} µs CPU (target <= 1): "
            f"{verdict}"
        )
    return lines


def _per_call_verdict(ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    """met or MISSED, unless the two ranges over repeats overlap: fresh processes move a call
    by a few hundred µs, and then this run cannot tell (paired_calls.py can)."""
    added, their_added = ours["added_cpu_us"], theirs["added_cpu_us"]
    (low, high), (their_low, their_high) = ours["added_cpu_us_range"], theirs["added_cpu_us_range"]
    if low <= their_high and their_low <= high:
        return (
            f"not told apart: the ranges [{low:+.0f}, {high:+.0f}] and "
            f"[{their_low:+.0f}, {their_high:+.0f}] overlap; see benchmarks/paired_calls.py"
        )
    return "met" if added < their_added else f"MISSED by {added - their_added:.0f} µs"


def _floor_lines(summary: dict[str, Any], scenarios: Sequence[str]) -> list[str]:
    """What the SDK alone charges for an ours variant's outputs, against OpenLLMetry's whole
    cost, and how much of the variant is our own code."""
    lines = []
    for floor, base in FLOORS.items():
        for scenario in scenarios if floor in summary else ():
            price = summary[floor][scenario]["added_cpu_us"]
            emits = f"the SDK alone, emitting what {base} emits"
            line = f"- {scenario}: {floor} ({emits}) adds {price:.0f}"
            if "openllmetry" in summary:
                theirs = summary["openllmetry"][scenario]["added_cpu_us"]
                line += f"; OpenLLMetry {theirs:.0f}"
                if price >= theirs:
                    line += " (below it is out of reach for these outputs on this SDK)"
            if base in summary:
                own = summary[base][scenario]["added_cpu_us"] - price
                line += f"; our code in {base} {own:+.0f}"
            lines.append(line)
    return lines


def _added(row: dict[str, Any], variant: str, fmt: str) -> tuple[str, str]:
    """The added wall and CPU cells (blank for the baseline itself)."""
    if variant == "none":
        return "", ""
    lo, hi = row["added_cpu_us_range"]
    cpu = f"{row['added_cpu_us']:+{fmt}} [{lo:+{fmt}}, {hi:+{fmt}}]"
    return f"{row['added_wall_us']:+{fmt}}", cpu


def _table(summary: dict[str, Any], variants: Sequence[str]) -> str:
    lines = [
        "| scenario | variant | wall µs/call | CPU µs/call | added wall µs | added CPU µs "
        "[min, max] | spans/call |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for scenario in (s for s in SCENARIOS if s in summary["none"]):
        for variant in variants:
            row = summary[variant][scenario]
            added_wall, added_cpu = _added(row, variant, ".0f")
            lines.append(
                f"| {scenario} | {variant} | {row['wall_us']:.0f} | {row['cpu_us']:.0f} | "
                f"{added_wall} | {added_cpu} | {row['spans_per_call']:.2f} |"
            )
    if "per_chunk" not in summary["none"]:
        return "\n".join(lines)
    lines += [
        "",
        "| variant | wall µs/chunk | CPU µs/chunk | added wall µs/chunk | added CPU µs/chunk "
        "[min, max] |",
        "|---|---:|---:|---:|---:|",
    ]
    for variant in variants:
        chunk = summary[variant]["per_chunk"]
        added_wall, added_cpu = _added(chunk, variant, ".2f")
        lines.append(
            f"| {variant} | {chunk['wall_us']:.2f} | {chunk['cpu_us']:.2f} | {added_wall} | "
            f"{added_cpu} |"
        )
    paired = [v for v in variants if "per_chunk_ab" in summary[v]]
    if paired:
        lines += [
            "",
            "Paired calls in one process (the same stream with the instrumentation on and "
            "off, one right after the other; CPU of the calling thread):",
            "",
            "| variant | added CPU µs/chunk [min, max over workers] | added CPU µs/call, "
            "short and long stream | pairs |",
            "|---|---:|---:|---:|",
        ]
        for variant in paired:
            ab = summary[variant]["per_chunk_ab"]
            low, high = ab["added_cpu_us_range"]
            lines.append(
                f"| {variant} | {ab['added_cpu_us']:+.2f} [{low:+.2f}, {high:+.2f}] | "
                f"{ab['added_per_call_short_us']:+.0f}, {ab['added_per_call_long_us']:+.0f} | "
                f"{ab['pairs']} |"
            )
    return "\n".join(lines)


def _worker_flags(args: argparse.Namespace) -> list[str]:
    return [
        f"--calls={args.calls}",
        f"--rounds={args.rounds}",
        f"--warmup={args.warmup}",
        f"--scenarios={','.join(args.scenarios)}",
        f"--memory-calls={args.memory_calls}",
        f"--sample-every={args.sample_every}",
        f"--ab-pairs={args.ab_pairs}",
        *(["--tracemalloc"] if args.tracemalloc else []),
        *(["--memory"] if args.memory else []),
        *(
            [f"--profile={args.profile}", f"--profile-top={args.profile_top}"]
            if args.profile
            else []
        ),
    ]


def _chunk_ab(
    args: argparse.Namespace, variants: Sequence[str], url: str, sink: str
) -> dict[str, dict[str, Any]]:
    """The paired per-chunk runs, one worker per variant and repeat."""
    if args.ab_pairs <= 0 or sum(s in STREAM_CHUNKS for s in args.scenarios) < 2:
        return {}
    (short, _), (long, _) = _stream_ends(args.scenarios)
    flags = [*_worker_flags(args), "--chunk-ab"]
    paired = [v for v in variants if v != "none" and v not in FLOORS]  # floors have no switch
    workers: dict[str, list[dict[str, list[float]]]] = {v: [] for v in paired}
    for _ in range(args.repeats):
        for variant, runs in workers.items():
            runs.append(_run_worker(variant, url, sink, flags, ours_env=args.set))
    if not args.json:
        print("per-chunk pairs done", file=sys.stderr, flush=True)

    def per_chunk(short_added: list[float], long_added: list[float]) -> float:
        return (_med(long_added) - _med(short_added)) / (long - short)

    result = {}
    for variant, runs in workers.items():
        each = [per_chunk(run[str(short)], run[str(long)]) for run in runs]
        pooled_short = [x for run in runs for x in run[str(short)]]
        pooled_long = [x for run in runs for x in run[str(long)]]
        result[variant] = {
            "added_cpu_us": per_chunk(pooled_short, pooled_long),
            "added_cpu_us_range": [min(each), max(each)],
            "added_per_call_short_us": _med(pooled_short),
            "added_per_call_long_us": _med(pooled_long),
            "pairs": len(pooled_long),
        }
    return result


def _overhead(args: argparse.Namespace) -> int:
    variants = ["none", *(v for v in args.variants if v != "none")]
    runs: dict[str, list[Any]] = {v: [] for v in variants}
    started = time.monotonic()
    with _servers() as (url, sink):
        for repeat in range(args.repeats):
            shift = repeat % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                runs[variant].append(
                    _run_worker(variant, url, sink, _worker_flags(args), ours_env=args.set)
                )
            if not args.json:
                print(f"repeat {repeat + 1}/{args.repeats} done", file=sys.stderr, flush=True)
        chunk_ab = _chunk_ab(args, variants, url, sink)
        sink_counts = _sink_counts(sink)
    summary = _summarize(runs)
    for variant, paired in chunk_ab.items():
        summary[variant]["per_chunk_ab"] = paired
    meta = {
        "repeats": args.repeats,
        "calls": args.calls,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "seconds": round(time.monotonic() - started, 1),
        "sink_requests": sink_counts,
    }
    if args.json:
        print(json.dumps({"meta": meta, "summary": summary, "runs": runs}, indent=2))
        return 0
    print(
        f"Ollama instrumentation overhead: {args.repeats} repeats x {args.rounds} rounds x "
        f"{args.calls} calls per scenario, {meta['cpus']} CPUs, Python {meta['python']}, "
        f"{meta['seconds']} s; medians; CPU = process_time of the client process.\n"
    )
    print(_table(summary, variants))
    print("\nTargets:")
    print("\n".join(_verdicts(summary) or ["- none: run ours, openllmetry and both streams"]))
    return 0


def _profile(args: argparse.Namespace) -> int:
    with _servers() as (url, sink):
        text = _run_worker(
            args.profile_variant, url, sink, _worker_flags(args), raw=True, ours_env=args.set
        )
    print(
        f"cProfile of {args.calls} {args.profile} calls, variant {args.profile_variant} "
        f"(cProfile inflates small-function-heavy code; read it for shares, not for µs):"
    )
    print(text)
    return 0


def _slope_per_10k(samples: list[dict[str, Any]], key: str) -> float:
    """KiB per 10,000 calls, fitted over the samples after the first (warm-up) one."""
    points = samples[1:] if len(samples) > 2 else samples
    if len(points) < 2:
        return 0.0
    fit = statistics.linear_regression([p["calls"] for p in points], [p[key] for p in points])
    return fit.slope * 10_000


def _memory(args: argparse.Namespace) -> int:
    with _servers() as (url, sink):
        samples = _run_worker(
            args.memory_variant, url, sink, _worker_flags(args), ours_env=args.set
        )
    first, last = samples[1] if len(samples) > 2 else samples[0], samples[-1]
    calls = last["calls"] - first["calls"] or 1
    result = {
        "variant": args.memory_variant,
        "samples": samples,
        # From the first sample after warm-up to the last: caches and pools have filled by then.
        "rss_growth_kib": last["rss_kib"] - first["rss_kib"],
        "rss_bytes_per_call": (last["rss_kib"] - first["rss_kib"]) * 1024 / calls,
        "traced_bytes_per_call": (last["traced_kib"] - first["traced_kib"]) * 1024 / calls,
        "gc_objects_growth": last["gc_objects"] - first["gc_objects"],
        # Least squares over the same samples: one noisy RSS reading cannot make a trend.
        "rss_slope_kib_per_10k_calls": _slope_per_10k(samples, "rss_kib"),
        "traced_slope_kib_per_10k_calls": _slope_per_10k(samples, "traced_kib"),
        "spans": last["spans"],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"Memory over {args.memory_calls} non-streaming chats, variant {args.memory_variant}:\n")
    traced = args.tracemalloc  # without it there is no traced column worth printing
    print("| calls | RSS KiB |" + (" traced KiB |" if traced else "") + " gc objects | spans |")
    print("|---:|---:|" + ("---:|" if traced else "") + "---:|---:|")
    for s in samples:
        cell = f" {s['traced_kib']:.0f} |" if traced else ""
        print(f"| {s['calls']} | {s['rss_kib']} |{cell} {s['gc_objects']} | {s['spans']} |")
    print(
        f"\nFrom {first['calls']} to {last['calls']} calls: RSS {result['rss_growth_kib']:+d} KiB "
        f"({result['rss_bytes_per_call']:+.3f} B/call), gc objects "
        f"{result['gc_objects_growth']:+d}; least-squares slope of RSS "
        f"{result['rss_slope_kib_per_10k_calls']:+.1f} KiB per 10,000 calls."
    )
    if traced:
        print(
            f"Traced Python memory: {result['traced_bytes_per_call']:+.3f} B/call, slope "
            f"{result['traced_slope_kib_per_10k_calls']:+.1f} KiB per 10,000 calls."
        )
    return 0


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 repeats x 100 calls, 1 round")
    parser.add_argument("--repeats", type=int, default=None, help="fresh workers per variant [5]")
    parser.add_argument("--calls", type=int, default=None, help="calls per block [400]")
    parser.add_argument("--rounds", type=int, default=None, help="blocks per worker [2]")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up calls [50]")
    parser.add_argument(
        "--variants",
        type=_names,
        default=list(DEFAULT_VARIANTS),
        help=f"comma-separated, from {', '.join(VARIANTS)} [{','.join(DEFAULT_VARIANTS)}]",
    )
    parser.add_argument(
        "--scenarios",
        type=_names,
        default=list(SCENARIOS),
        help=f"comma-separated, from {','.join(SCENARIOS)} [all]",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment setting for the ours variants, e.g. TASKMASTER_EVALUATION_EVENTS=log",
    )
    parser.add_argument(
        "--ab-pairs",
        type=int,
        default=None,
        help="pairs of calls (on, off) per stream length and worker for the per-chunk "
        "cost, 0 for none [300]",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--memory", action="store_true", help="the memory run instead")
    parser.add_argument("--memory-calls", type=int, default=100_000, help="[100000]")
    parser.add_argument("--sample-every", type=int, default=10_000, help="[10000]")
    parser.add_argument("--memory-variant", default="ours", choices=VARIANTS, help="[ours]")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace Python allocations (slower)"
    )
    parser.add_argument(
        "--profile", choices=SCENARIOS, help="cProfile one block of this scenario instead"
    )
    parser.add_argument("--profile-variant", default="ours", choices=VARIANTS, help="[ours]")
    parser.add_argument("--profile-top", type=int, default=40, help="rows per listing [40]")
    # Internal: the driver starts workers with these.
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--chunk-ab", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quick = args.quick
    args.repeats = args.repeats or (3 if quick else 5)
    args.calls = args.calls or (100 if quick else 400)
    args.rounds = args.rounds or (1 if quick else 2)
    args.warmup = args.warmup if args.warmup is not None else (20 if quick else 50)
    args.ab_pairs = args.ab_pairs if args.ab_pairs is not None else (60 if quick else 300)
    unknown = (set(args.variants) - set(VARIANTS)) | (set(args.scenarios) - set(SCENARIOS))
    if unknown:
        print(f"unknown variants or scenarios: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    malformed = [item for item in args.set if "=" not in item or item.startswith("=")]
    if malformed:
        print(f"--set takes NAME=VALUE, got: {', '.join(malformed)}", file=sys.stderr)
        return 2
    if args.worker:
        if args.profile:
            return _profile_worker(args)
        if args.chunk_ab:
            return _chunk_ab_worker(args)
        return _memory_worker(args) if args.memory else _worker(args)
    if args.profile:
        return _profile(args)
    return _memory(args) if args.memory else _overhead(args)


if __name__ == "__main__":
    sys.exit(main())
