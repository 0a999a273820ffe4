"""What response scoring costs, and why coherence no longer depends on answer length.

    .venv/bin/python benchmarks/scoring.py            # 15 repeats, Markdown tables
    .venv/bin/python benchmarks/scoring.py --quick    # 5 short repeats

Costs (median over repeats of the per-call mean; CPU from ``time.process_time``, wall from
``time.perf_counter``):

- ``add``: ``ResponseFeatures.add`` per content piece (a 2,000-char answer in 6-char pieces);
- ``attributes``: ``ResponseFeatures.attributes`` once per answer, at 500 / 2,000 / 8,000 /
  32,768 characters of English prose (standard-library module docstrings, repeated to
  length; see ``_prose``), broken down by feature (at 2,000 characters);
- ``score``: ``QualityScorer.score_features`` on those attributes;
- ``on_end``: ``QualitySpanProcessor.on_end`` per scored span, with SDK providers whose batch
  processors drop what they export (the production shape: metrics, 5 log events, the child
  span with 5 span events, a drift recorder that only counts), then without the child span,
  then metrics only; beside it, the cost of starting and ending the GenAI span itself;
- ``answer``: a whole scored answer (start, score, end the GenAI span), scored just before its
  end as the configured instrumentor does (scores and events on the span), or in ``on_end``
  with the child span as a hand-wired processor does.

Coherence vs length: the seed's ``min(1, 1.5 * unique/words)`` and ours on honest text
(Zipf-weighted vocabulary: words recur, phrases do not) and on repetition loops, at several
lengths, from ``random.Random(seed)``.
"""

from __future__ import annotations

import argparse
import inspect
import random
import statistics
import string
import sys
import time
from collections.abc import Callable, Sequence

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Tracer

from otel_taskmaster import semconv as sc
from otel_taskmaster.quality import QualityScorer, QualitySpanProcessor, ResponseFeatures
from otel_taskmaster.quality.features import _deflate, is_refusal, structure_markers


def _prose(n_chars: int) -> str:
    """English prose from stdlib docstrings (fixed modules, so fixed text per Python)."""
    import argparse as m1
    import asyncio as m2
    import collections as m3
    import json as m4
    import logging as m5
    import subprocess as m6
    import typing as m7
    import unittest as m8

    text = "\n\n".join(inspect.getdoc(m) or "" for m in (m4, m3, m1, m7, m6, m2, m5, m8))
    while len(text) < n_chars:
        text += "\n\n" + text
    return text[:n_chars]


def _zipf_text(n_words: int, rng: random.Random) -> str:
    vocab = [
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9)))
        for _ in range(800)
    ]
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    return " ".join(rng.choices(vocab, weights, k=n_words))


def _measure(fn: Callable[[], object], loops: int, repeats: int) -> tuple[float, float]:
    """Median per-call CPU and wall time in microseconds."""
    cpu: list[float] = []
    wall: list[float] = []
    fn()
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(loops):
            fn()
        c1, w1 = time.process_time(), time.perf_counter()
        cpu.append((c1 - c0) / loops * 1e6)
        wall.append((w1 - w0) / loops * 1e6)
    return statistics.median(cpu), statistics.median(wall)


class _DropSpans(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _DropLogs(LogRecordExporter):
    def export(self, batch: Sequence[object]) -> LogRecordExportResult:  # type: ignore[override]
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class _CountingDrift:
    def __init__(self) -> None:
        self.count = 0

    def observe(self, metric: str, model: str, value: float, span_context: object) -> None:
        self.count += 1


def _answer(text: str, pieces: int = 6) -> ResponseFeatures:
    features = ResponseFeatures()
    for i in range(0, len(text), pieces):
        features.add(text[i : i + pieces])
    return features


def bench_features(loops: int, repeats: int) -> list[tuple[str, float, float]]:
    rows: list[tuple[str, float, float]] = []
    text = _prose(2000)
    chunks = [text[i : i + 6] for i in range(0, len(text), 6)]

    def add_all() -> None:
        features = ResponseFeatures()
        for chunk in chunks:
            features.add(chunk)

    cpu, wall = _measure(add_all, loops, repeats)
    rows.append((f"add (per piece, {len(chunks)} pieces)", cpu / len(chunks), wall / len(chunks)))
    for size in (500, 2000, 8000, 32768):
        features = _answer(_prose(size))
        cpu, wall = _measure(lambda f=features: f.attributes("stop"), loops, repeats)
        rows.append((f"attributes, {size:,} chars", cpu, wall))
    sample = _prose(2000)
    raw = sample.encode()
    words = sample.lower().split()
    parts: list[tuple[str, Callable[[], object]]] = [
        ("  of which lower+split", lambda: sample.lower().split()),
        ("  of which unique words", lambda: len(set(words))),
        ("  of which trigram set", lambda: len(set(zip(words, words[1:], words[2:])))),  # noqa: B905
        ("  of which deflate (level 1, window sized to the answer)", lambda: _deflate(raw)),
        ("  of which structure markers", lambda: structure_markers(sample)),
        ("  of which refusal check", lambda: is_refusal(sample)),
    ]
    for name, fn in parts:
        cpu, wall = _measure(fn, loops, repeats)
        rows.append((name, cpu, wall))
    attrs = _answer(sample).attributes("stop")
    scorer = QualityScorer()
    cpu, wall = _measure(lambda: scorer.score_features(attrs, 0.8, "stop"), loops, repeats)
    rows.append(("score_features", cpu, wall))
    return rows


def _providers() -> tuple[TracerProvider, MeterProvider, LoggerProvider]:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(_DropSpans(), max_queue_size=1 << 16))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(_DropLogs(), max_queue_size=1 << 16)
    )
    return tracer_provider, meter_provider, logger_provider


def _scored_span(tracer_provider: TracerProvider) -> ReadableSpan:
    features = _answer(_prose(2000))
    attributes = {
        sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT,
        sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_OLLAMA,
        sc.GEN_AI_REQUEST_MODEL: "llama3.2",
        sc.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",),
        **features.attributes("stop"),
    }
    tracer = tracer_provider.get_tracer("bench")
    span = tracer.start_span("chat llama3.2", kind=SpanKind.CLIENT, attributes=attributes)
    span.end()
    return span._readable_span()  # type: ignore[attr-defined]


def bench_processor(loops: int, repeats: int) -> list[tuple[str, float, float]]:
    rows: list[tuple[str, float, float]] = []
    # Reference in the same run: what the SDK charges for the scored span itself.
    bare = TracerProvider()
    attributes = dict(_scored_span(bare).attributes or {})
    tracer = bare.get_tracer("bench")

    def genai_span() -> None:
        tracer.start_span("chat llama3.2", kind=SpanKind.CLIENT, attributes=attributes).end()

    cpu, wall = _measure(genai_span, loops, repeats)
    rows.append(("reference: start+end the GenAI span (bare SDK)", cpu, wall))
    variants = [
        ("on_end: metrics + 5 events + child span + drift", True, True, True),
        ("on_end: metrics + 5 events + drift (no child span)", False, True, True),
        ("on_end: metrics only", False, False, False),
    ]
    for name, child, events, drift in variants:
        tracer_provider, meter_provider, logger_provider = _providers()
        processor = QualitySpanProcessor(
            QualityScorer(),
            meter_provider=meter_provider,
            tracer_provider=tracer_provider,
            logger_provider=logger_provider if events else LoggerProvider(shutdown_on_exit=False),
            drift_monitor=_CountingDrift() if drift else None,
            evaluation_span=child,
        )
        if not events:
            processor._event_logger = _NoLogs()  # type: ignore[assignment]
        span = _scored_span(tracer_provider)
        cpu, wall = _measure(lambda p=processor, s=span: p.on_end(s), loops, repeats)
        rows.append((name, cpu, wall))
        tracer_provider.shutdown()
        meter_provider.shutdown()
        logger_provider.shutdown()
    # Whole answers as the instrumentor drives them: start the GenAI span, end it, and score
    # it either just before its end (the ending hook the configurator wires up: scores and
    # events on the span) or in on_end (a processor wired by hand: the child span).
    for name, before_end in (
        ("answer: span + score_ending before its end (configured)", True),
        ("answer: span + on_end with the child span (hand-wired)", False),
    ):
        tracer_provider, meter_provider, logger_provider = _providers()
        processor = QualitySpanProcessor(
            QualityScorer(),
            meter_provider=meter_provider,
            tracer_provider=tracer_provider,
            logger_provider=logger_provider,
            drift_monitor=_CountingDrift(),
        )
        tracer_provider.add_span_processor(processor)
        tracer = tracer_provider.get_tracer("bench")

        def answer(
            p: QualitySpanProcessor = processor, t: Tracer = tracer, score_first: bool = before_end
        ) -> None:
            span = t.start_span("chat llama3.2", kind=SpanKind.CLIENT, attributes=attributes)
            if score_first:
                p.score_ending(span, 0.3)
            span.end()

        cpu, wall = _measure(answer, loops, repeats)
        rows.append((name, cpu, wall))
        tracer_provider.shutdown()
        meter_provider.shutdown()
        logger_provider.shutdown()
    return rows


class _NoLogs:
    def emit(self, *args: object, **kwargs: object) -> None:
        pass


def coherence_table(seed: int) -> list[tuple[str, int, int, float, float, float, float]]:
    rng = random.Random(seed)
    scorer = QualityScorer()
    rows = []
    for kind in ("honest (Zipf words)", "loop (12-word phrase)"):
        for n_words in (50, 100, 300, 1000, 3000):
            if kind.startswith("honest"):
                text = _zipf_text(n_words, rng)
            else:
                phrase = _zipf_text(12, rng)
                text = " ".join([phrase] * (n_words // 12 + 1)).split(" ", n_words)[0:n_words]
                text = " ".join(text)
            words = text.split()
            seed_coherence = min(1.0, len(set(words)) / len(words) * 1.5)
            features = _answer(text)
            attrs = features.attributes("stop")
            ours = scorer.score_features(attrs, 0.5, "stop").dimensions["coherence_score"]
            rows.append(
                (
                    kind,
                    n_words,
                    len(text),
                    seed_coherence,
                    ours,
                    float(attrs[sc.FEATURE_NGRAM_REPETITION]),
                    float(attrs[sc.FEATURE_COMPRESSION_RATIO]),
                )
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 short repeats")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else args.repeats
    loops = 100 if args.quick else 500

    print(f"Python {sys.version.split()[0]}, {repeats} repeats x {loops} loops, medians\n")
    print("| operation | CPU µs | wall µs |\n|---|---:|---:|")
    for name, cpu, wall in bench_features(loops, repeats) + bench_processor(loops, repeats):
        print(f"| {name} | {cpu:.2f} | {wall:.2f} |")

    print("\nCoherence vs answer length (seed rule vs ours)\n")
    print(
        "| text | words | chars | seed coherence | our coherence | ngram_repetition "
        "| compression_ratio |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    for kind, n_words, chars, seed_c, ours, rep, comp in coherence_table(args.seed):
        print(
            f"| {kind} | {n_words} | {chars} | {seed_c:.3f} | {ours:.3f} | {rep:.3f} | {comp:.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
