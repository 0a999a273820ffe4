"""What the OpenTelemetry Python SDK charges for each thing our telemetry emits.

The per-call overhead in overhead.py is a sum of these unit costs: a span, an attribute
(set, checked, and encoded for OTLP), a span event, a log record, a histogram measurement
per metric reader. Export encoding is included (a batch processor whose exporter encodes
OTLP protobuf and sends nothing), as it is paid in the instrumented process.

    .venv/bin/python benchmarks/sdk_costs.py
    .venv/bin/python benchmarks/sdk_costs.py --sdk-versions 1.44.0,1.45.2   # releases side by side

``--sdk-versions`` makes one virtualenv per release (the SDK, the API and the OTLP encoder,
from PyPI; kept under ``--venvs`` for the next run) and runs this script in each, so a change
in what the SDK charges shows as a ratio measured on one machine in one run.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

EVENT = {
    "gen_ai.evaluation.name": "coherence",
    "gen_ai.evaluation.score.value": 0.8,
    "gen_ai.evaluation.score.label": "pass",
}
REQUEST_FIELDS = {
    "request_id": "8bda3c12abcfe918",
    "endpoint": "/api/chat",
    "model": "llama3.2",
    "prompt_length": 12,
    "response_length": 325,
    "latency_ms": 5.0,
    "tokens_in": 8,
    "tokens_out": 84,
    "event_type": "request",
}
GENAI_METRIC_ATTRIBUTES = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "ollama",
    "gen_ai.request.model": "llama3.2",
    "server.address": "127.0.0.1",
    "server.port": 11434,
}


class _EncodingSpanExporter(SpanExporter):
    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        encode_spans(spans).SerializeToString()
        return SpanExportResult.SUCCESS


class _EncodingLogExporter(LogRecordExporter):
    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        encode_logs(batch).SerializeToString()
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def _per_call_us(
    action: Callable[[], None], calls: int, repeats: int, flush: Callable[[], Any] | None = None
) -> float:
    """Median CPU µs per call over repeats; a block stays under the batch queue size (2048),
    so nothing is dropped, and ends with a flush, so the encoding is counted."""
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(calls):
            action()
        if flush is not None:
            flush()
        samples.append((time.process_time() - start) / calls * 1e6)
    return statistics.median(samples)


def measure(calls: int, repeats: int) -> list[tuple[str, float]]:
    """Every unit cost, in CPU µs, with the SDK this interpreter imports."""
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(_EncodingSpanExporter()))
    tracer = tracer_provider.get_tracer("sdk-costs")
    flush_spans = tracer_provider.force_flush
    twenty = {f"attribute.{i}": i for i in range(20)}

    def span_with_events() -> None:
        span = tracer.start_span("evaluate llama3.2")
        for _ in range(5):
            span.add_event("gen_ai.evaluation.result", EVENT)
        span.end()

    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(_EncodingLogExporter()))
    otel_logger = logger_provider.get_logger("sdk-costs")
    python_logger = logging.getLogger("sdk_costs.requests")
    python_logger.propagate = False
    python_logger.setLevel(logging.INFO)
    try:
        from opentelemetry.instrumentation.logging.handler import LoggingHandler
    except ImportError:  # older layouts
        from opentelemetry.sdk._logs import LoggingHandler  # type: ignore[attr-defined,no-redef]
    python_logger.addHandler(LoggingHandler(logger_provider=logger_provider))

    rows: list[tuple[str, float]] = [
        (
            "span, no attributes",
            _per_call_us(lambda: tracer.start_span("s").end(), calls, repeats, flush_spans),
        ),
        (
            "span, 20 attributes",
            _per_call_us(
                lambda: tracer.start_span("s", attributes=twenty).end(), calls, repeats, flush_spans
            ),
        ),
        (
            "span with 5 evaluation events",
            _per_call_us(span_with_events, calls, repeats, flush_spans),
        ),
        (
            "log record via the Logs API, 3 attributes",
            _per_call_us(
                lambda: otel_logger.emit(
                    severity_number=SeverityNumber.INFO,
                    attributes=EVENT,
                    event_name="gen_ai.evaluation.result",
                ),
                calls,
                repeats,
                logger_provider.force_flush,
            ),
        ),
        (
            "log record via the Logs API, 9 attributes",
            _per_call_us(
                lambda: otel_logger.emit(
                    severity_number=SeverityNumber.INFO,
                    body="Request completed",
                    attributes=REQUEST_FIELDS,
                ),
                calls,
                repeats,
                logger_provider.force_flush,
            ),
        ),
        (
            "log record via Python logging + OTel handler, 9 fields",
            _per_call_us(
                lambda: python_logger.info("Request completed", extra=REQUEST_FIELDS),
                calls,
                repeats,
                logger_provider.force_flush,
            ),
        ),
    ]
    five = GENAI_METRIC_ATTRIBUTES
    for readers, attributes in ((1, {}), (1, five), (2, five)):
        provider = MeterProvider(metric_readers=[InMemoryMetricReader() for _ in range(readers)])
        histogram = provider.get_meter("sdk-costs").create_histogram("duration")
        rows.append(
            (
                f"histogram measurement, {len(attributes) or 'no'} attributes, {readers} reader(s)",
                _per_call_us(
                    lambda h=histogram, a=attributes: h.record(0.5, a), calls * 10, repeats
                ),
            )
        )
        provider.shutdown()
    tracer_provider.shutdown()
    logger_provider.shutdown()
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1000, help="calls per block [1000]")
    parser.add_argument("--repeats", type=int, default=7, help="blocks per row [7]")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument(
        "--sdk-versions",
        metavar="V1,V2,...",
        help="measure each opentelemetry-sdk version in its own virtualenv, side by side",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="with --sdk-versions: runs per version [3]"
    )
    parser.add_argument(
        "--venvs",
        type=Path,
        default=_default_venvs_dir(),
        help="with --sdk-versions: where the virtualenvs are made and kept [%(default)s]",
    )
    args = parser.parse_args(argv)
    calls, repeats = min(args.calls, 2000), args.repeats
    if args.sdk_versions:
        versions = [v.strip() for v in args.sdk_versions.split(",") if v.strip()]
        return _compare_versions(versions, calls, repeats, args.rounds, args.venvs)

    rows = measure(calls, repeats)
    if args.json:
        print(json.dumps({"sdk": importlib.metadata.version("opentelemetry-sdk"), "rows": rows}))
        return 0

    print(
        f"OpenTelemetry SDK unit costs, CPU µs, median of {repeats} blocks, "
        f"Python {sys.version.split()[0]}:\n"
    )
    print("| what | CPU µs |\n|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value:.1f} |")
    per_attribute = (rows[1][1] - rows[0][1]) / 20
    print(f"\nOne span attribute, set and encoded: {per_attribute:.1f} µs")
    return 0


def _default_venvs_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "otel-taskmaster" / "sdk-venvs"


# What each release's virtualenv holds: the API, the SDK and the OTLP encoder.
_SDK_PACKAGES = ("api", "sdk", "exporter-otlp-proto-common")


def _sdk_python(version: str, venvs: Path) -> Path:
    """The interpreter of a virtualenv holding that SDK release and its OTLP encoder (made
    once, then reused). The logs rows then use the SDK's own LoggingHandler, in every
    version alike."""
    venv = venvs / f"opentelemetry-sdk-{version}"
    python = venv / "bin" / "python"
    installed = venv / "installed"  # written last: a failed install is redone, not reused
    if not installed.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        packages = [f"opentelemetry-{name}=={version}" for name in _SDK_PACKAGES]
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *packages], check=True)
        installed.write_text(" ".join(packages) + "\n")
    return python


def _compare_versions(
    versions: list[str], calls: int, repeats: int, rounds: int, venvs: Path
) -> int:
    """Runs this script in each version's virtualenv, ``rounds`` times in a rotating order
    (the machine's speed drifts), and prints the medians side by side."""
    try:
        pythons = {version: _sdk_python(version, venvs) for version in versions}
    except subprocess.CalledProcessError as error:
        print(f"sdk_costs.py: could not set up a virtualenv: {error}", file=sys.stderr)
        return 2
    runs: dict[str, list[list[tuple[str, float]]]] = {version: [] for version in versions}
    rounds = max(1, rounds)
    for round_index in range(rounds):
        shift = round_index % len(versions)
        for version in versions[shift:] + versions[:shift]:
            command = [str(pythons[version]), __file__, "--json"]
            child = subprocess.run(
                [*command, f"--calls={calls}", f"--repeats={repeats}"],
                capture_output=True,
                text=True,
                check=False,
            )
            if child.returncode != 0:
                print(f"sdk_costs.py: the run with SDK {version} failed:", file=sys.stderr)
                print(child.stderr[-4000:], file=sys.stderr)
                return 1
            runs[version].append([(name, us) for name, us in json.loads(child.stdout)["rows"]])
    names = [name for name, _ in runs[versions[0]][0]]
    medians = {
        version: [statistics.median(run[i][1] for run in runs[version]) for i in range(len(names))]
        for version in versions
    }
    print(
        f"OpenTelemetry SDK unit costs by release, CPU µs, median of {rounds} runs of "
        f"{repeats} blocks each, Python {sys.version.split()[0]}:\n"
    )
    first, last = versions[0], versions[-1]
    print("| what | " + " | ".join(versions) + f" | {last} / {first} |")
    print("|---|" + "---:|" * (len(versions) + 1))
    for i, name in enumerate(names):
        cells = " | ".join(f"{medians[version][i]:.1f}" for version in versions)
        print(f"| {name} | {cells} | {medians[last][i] / medians[first][i]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
