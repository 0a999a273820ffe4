"""Every instrument the Ollama instrumentor and ``monitor_request`` record, created once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otel_taskmaster import semconv as sc


class Instruments:
    """The GenAI semconv metrics and the seed's ``taskmaster_*`` metrics, with explicit buckets."""

    def __init__(self, meter: Meter) -> None:
        # GenAI semantic conventions.
        self.operation_duration = meter.create_histogram(
            sc.GEN_AI_CLIENT_OPERATION_DURATION,
            unit=sc.UNIT_SECONDS,
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=sc.GEN_AI_DURATION_BUCKETS,
        )
        self.token_usage = meter.create_histogram(
            sc.GEN_AI_CLIENT_TOKEN_USAGE,
            unit=sc.UNIT_TOKEN,
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=sc.GEN_AI_TOKEN_BUCKETS,
        )
        self.time_to_first_chunk = meter.create_histogram(
            sc.GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK,
            unit=sc.UNIT_SECONDS,
            description="Time from request start to the first streamed response chunk",
            explicit_bucket_boundaries_advisory=sc.GEN_AI_DURATION_BUCKETS,
        )
        self.time_per_output_chunk = meter.create_histogram(
            sc.GEN_AI_CLIENT_TIME_PER_OUTPUT_CHUNK,
            unit=sc.UNIT_SECONDS,
            description="Time between streamed response chunks after the first",
            explicit_bucket_boundaries_advisory=sc.GEN_AI_PER_TOKEN_BUCKETS,
        )
        self.server_time_per_output_token = meter.create_histogram(
            sc.GEN_AI_SERVER_TIME_PER_OUTPUT_TOKEN,
            unit=sc.UNIT_SECONDS,
            description="Ollama's eval_duration divided by eval_count",
            explicit_bucket_boundaries_advisory=sc.GEN_AI_PER_TOKEN_BUCKETS,
        )
        # The seed's names; see semconv.py for the exposed Prometheus names.
        self.request_latency = meter.create_histogram(
            sc.TASKMASTER_REQUEST_LATENCY,
            unit=sc.UNIT_SECONDS,
            description="Request latency in seconds",
            explicit_bucket_boundaries_advisory=sc.SEED_LATENCY_BUCKETS,
        )
        self.response_length = meter.create_histogram(
            sc.TASKMASTER_RESPONSE_LENGTH,
            unit=sc.UNIT_CHAR,
            description="Response length in characters",
            explicit_bucket_boundaries_advisory=sc.SEED_RESPONSE_LENGTH_BUCKETS,
        )
        # The seed's counters and its timestamp gauge are observed from running totals: one
        # integer addition per call instead of one SDK measurement per metric reader.
        self._totals = _Totals()
        meter.create_observable_counter(
            sc.TASKMASTER_REQUESTS,
            callbacks=[self._totals.observe_requests],
            unit=sc.UNIT_REQUEST,
            description="Total requests to TaskMaster",
        )
        meter.create_observable_counter(
            sc.TASKMASTER_TOKENS_INPUT,
            callbacks=[self._totals.observe_tokens_in],
            unit=sc.UNIT_TOKEN,
            description="Total input tokens processed",
        )
        meter.create_observable_counter(
            sc.TASKMASTER_TOKENS_OUTPUT,
            callbacks=[self._totals.observe_tokens_out],
            unit=sc.UNIT_TOKEN,
            description="Total output tokens generated",
        )
        # No unit: "s" would make the exporter append _seconds to the seed's name.
        meter.create_observable_gauge(
            sc.TASKMASTER_LAST_SUCCESS,
            callbacks=[self._totals.observe_last_success],
            description="Unix time of the last successful request",
        )
        self.instrumentation_errors = meter.create_counter(
            sc.TASKMASTER_INSTRUMENTATION_ERRORS,
            unit=sc.UNIT_ERROR,
            description="Errors inside the instrumentation, caught and not raised into the app",
        )

    def count_request(self, endpoint: str, status: str) -> None:
        """One more ``taskmaster_requests``; success also moves the last-success timestamp."""
        self._totals.count_request(endpoint, status)

    def count_tokens(self, tokens_in: int, tokens_out: int) -> None:
        self._totals.count_tokens(tokens_in, tokens_out)

    @classmethod
    def for_meter(cls, meter: Meter) -> Instruments:
        """One set per meter: the observed totals must not be split between two copies."""
        with _CACHE_LOCK:
            found = _BY_METER.get(id(meter))
            if found is None or found[0] is not meter:
                found = _BY_METER[id(meter)] = (meter, cls(meter))
            return found[1]


_CACHE_LOCK = threading.Lock()
_BY_METER: dict[int, tuple[Meter, Instruments]] = {}


class _Totals:
    """Running totals behind the seed's observable counters; bounded by the endpoints."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str], int] = {}
        self._tokens_in = 0
        self._tokens_out = 0
        self._last_success: float | None = None

    def count_request(self, endpoint: str, status: str) -> None:
        with self._lock:
            requests = self._requests
            if (endpoint, status) not in requests:
                # Both status series start at 0, so rate() sees the first error too (a series
                # that appears already at 1 has no increase to measure).
                for each in (sc.STATUS_SUCCESS, sc.STATUS_ERROR):
                    requests.setdefault((endpoint, each), 0)
            requests[endpoint, status] += 1
            if status == sc.STATUS_SUCCESS:
                self._last_success = time.time()

    def count_tokens(self, tokens_in: int, tokens_out: int) -> None:
        with self._lock:
            self._tokens_in += tokens_in
            self._tokens_out += tokens_out

    def observe_requests(self, options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            items = list(self._requests.items())
        return [
            Observation(count, {sc.LABEL_ENDPOINT: endpoint, sc.LABEL_STATUS: status})
            for (endpoint, status), count in items
        ]

    def observe_tokens_in(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(self._tokens_in)]

    def observe_tokens_out(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(self._tokens_out)]

    def observe_last_success(self, options: CallbackOptions) -> Iterable[Observation]:
        last = self._last_success
        return [] if last is None else [Observation(last)]
