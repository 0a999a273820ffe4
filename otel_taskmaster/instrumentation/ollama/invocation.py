"""One Ollama API call: its span, its measurements, and the single place it finishes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import httpx
import orjson
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from otel_taskmaster import semconv as sc
from otel_taskmaster.config import Settings
from otel_taskmaster.exemplars import NO_EXEMPLAR
from otel_taskmaster.instrumentation.ollama.attributes import RequestInfo, parse_request
from otel_taskmaster.instrumentation.ollama.hooks import EndingHook
from otel_taskmaster.instrumentation.ollama.instruments import Instruments
from otel_taskmaster.instrumentation.ollama.response import ResponseSummary, TextSink, parse_body
from otel_taskmaster.instrumentation.ollama.routes import BODY_EMBED, Route, RouteMatcher
from otel_taskmaster.instrumentation.ollama.stream import ObservedAsyncStream, ObservedSyncStream
from otel_taskmaster.labels import BoundedLabels
from otel_taskmaster.logs.request_log import log_request
from otel_taskmaster.manual.scope import current_scope
from otel_taskmaster.quality.features import ResponseFeatures

_logger = logging.getLogger(__name__)

# Attributes other GenAI instrumentations put on their spans; seeing one current means the
# call already has a GenAI span, so we add to it instead of making a second one.
_FOREIGN_GENAI_KEYS = (sc.GEN_AI_OPERATION_NAME, sc.GEN_AI_SYSTEM, "llm.request.type")
# Bytes of a streamed body kept for parsing; past this only the tail (the final chunk) is.
KEEP_BYTES = 4 * 1024 * 1024
_NS_PER_S = 1e9
_MAX_CACHED_ATTRIBUTE_SETS = 512
# Where our own errors are counted (the `component` label of taskmaster_instrumentation_errors).
_COMPONENTS = ("start", "response", "finish", "span_end", "malformed_body")


class CallTelemetry:
    """What every call shares: tracer, instruments, settings, the ending hook. Built once
    per instrument()."""

    def __init__(
        self,
        tracer: Tracer,
        instruments: Instruments,
        settings: Settings,
        ending_hook: EndingHook | None = None,
    ) -> None:
        self.tracer = tracer
        self.instruments = instruments
        self.settings = settings
        self.ending_hook = ending_hook
        self.matcher = RouteMatcher(settings.ollama_endpoints)
        self.models = BoundedLabels(settings.max_models)
        # Error counters start at 0, so rate() and increase() see the first error.
        for component in _COMPONENTS:
            instruments.instrumentation_errors.add(0, {sc.LABEL_COMPONENT: component})
        self._metric_attributes: dict[
            tuple[str, str, str, int, str | None],
            tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
        ] = {}

    def metric_attributes(
        self, operation: str, model: str, address: str, port: int, error_type: str | None
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The GenAI metric attribute sets of one kind of call (base, input, output tokens),
        built once: every input is bounded, and the cache is capped anyway."""
        key = (operation, model, address, port, error_type)
        found = self._metric_attributes.get(key)
        if found is None:
            base: dict[str, Any] = {
                sc.GEN_AI_OPERATION_NAME: operation,
                sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_OLLAMA,
                sc.GEN_AI_REQUEST_MODEL: model,
                sc.SERVER_ADDRESS: address,
                sc.SERVER_PORT: port,
            }
            if error_type is not None:
                base[sc.ERROR_TYPE] = error_type
            found = (
                base,
                {**base, sc.GEN_AI_TOKEN_TYPE: "input"},
                {**base, sc.GEN_AI_TOKEN_TYPE: "output"},
            )
            if len(self._metric_attributes) < _MAX_CACHED_ATTRIBUTE_SETS:
                self._metric_attributes[key] = found
        return found

    def start(self, route: Route, request: httpx.Request) -> LLMCall:
        return LLMCall(self, route, request)

    def internal_error(self, where: str) -> None:
        _logger.debug("otel-taskmaster instrumentation error in %s", where, exc_info=True)
        self.count_error(where)

    def count_error(self, where: str) -> None:
        with contextlib.suppress(Exception):  # the metrics SDK failing too
            self.instruments.instrumentation_errors.add(1, {sc.LABEL_COMPONENT: where})


class LLMCall:
    """Span + measurements of one call. ``finish_*`` may be reached from many exit paths;
    only the first one counts."""

    __slots__ = (
        "_owns_span",
        "_scope",
        "_start_ns",
        "_start_wall",
        "_status",
        "context",
        "finished",
        "request",
        "route",
        "server_address",
        "server_port",
        "span",
        "telemetry",
    )

    def __init__(self, telemetry: CallTelemetry, route: Route, request: httpx.Request) -> None:
        self.telemetry = telemetry
        self.route = route
        self.finished = False
        settings = telemetry.settings
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = b""
        self.request: RequestInfo = parse_request(route, body, settings.capture_content)
        url = request.url
        self.server_address = url.host
        self.server_port = url.port or (443 if url.scheme == "https" else 80)
        self._scope = current_scope.get()
        parent = trace.get_current_span()
        parent_attributes = getattr(parent, "attributes", None)
        if (
            parent.is_recording()
            and parent_attributes
            and any(key in parent_attributes for key in _FOREIGN_GENAI_KEYS)
        ):
            self.span: Span = parent
            self._owns_span = False
        else:
            model = self.request.model
            name = f"{route.operation} {model}" if model else route.operation
            self.span = telemetry.tracer.start_span(
                name, kind=SpanKind.CLIENT, attributes=self._start_attributes()
            )
            self._owns_span = True
        if not self._owns_span:
            self.span.set_attributes(self._start_attributes())
        self.context = trace.set_span_in_context(self.span)
        self._status = 200
        self._start_wall = time.time()
        self._start_ns = time.perf_counter_ns()

    def _start_attributes(self) -> dict[str, Any]:
        info = self.request
        attrs: dict[str, Any] = {
            sc.GEN_AI_OPERATION_NAME: self.route.operation,
            sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_OLLAMA,
            sc.SERVER_ADDRESS: self.server_address,
            sc.SERVER_PORT: self.server_port,
            sc.OLLAMA_API_PATH: self.route.path,
            sc.GEN_AI_REQUEST_STREAM: info.stream,
        }
        if info.model:
            attrs[sc.GEN_AI_REQUEST_MODEL] = info.model
        attrs.update(info.attributes)
        if self.route.body != BODY_EMBED:
            attrs[sc.FEATURE_PROMPT_CHARS] = info.prompt_chars
        if info.input_messages is not None:
            attrs[sc.GEN_AI_INPUT_MESSAGES] = self._messages_json(info.input_messages, None)
        return attrs

    def _messages_json(self, messages: list[dict[str, str]], finish_reason: str | None) -> str:
        """GenAI semconv message JSON; the text, not the JSON, is cut to the length limit,
        so the attribute always parses."""
        budget = self.telemetry.settings.capture_content_max_length
        found: list[dict[str, Any]] = []
        for message in messages:
            text = message["content"][: max(budget, 0)]
            budget -= len(text)
            item: dict[str, Any] = {
                "role": message["role"],
                "parts": [{"type": "text", "content": text}],
            }
            if finish_reason is not None:
                item["finish_reason"] = finish_reason
            found.append(item)
        return orjson.dumps(found).decode()

    # --- exits -----------------------------------------------------------------------------

    def on_response(self, response: httpx.Response, streamed: bool) -> None:
        """Called when ``send`` returned: parse now, or watch the stream until it ends."""
        if streamed:
            inner = response.stream
            if isinstance(inner, httpx.SyncByteStream):
                response.stream = ObservedSyncStream(inner, self, KEEP_BYTES)
                self._status = response.status_code
                return
            if isinstance(inner, httpx.AsyncByteStream):
                response.stream = ObservedAsyncStream(inner, self, KEEP_BYTES)
                self._status = response.status_code
                return
        self._status = response.status_code
        self._finish_body(response.content, b"", 0, None, False)

    def finish_stream(
        self,
        head: bytes,
        tail: bytes,
        first_chunk_ns: int,
        *,
        error: BaseException | None,
        abandoned: bool,
    ) -> None:
        self._finish_body(head, tail, first_chunk_ns, error, abandoned and error is None)

    def fail(self, exc: BaseException) -> None:
        """``send`` itself raised: connection refused, timeout, cancellation..."""
        if self.finished:
            return
        self._finish(None, type(exc).__qualname__, 0, False, None)

    def give_up(self) -> None:
        """Our own code failed on the response: end the span without blaming the call."""
        if self.finished:
            return
        self._finish(None, None, 0, False, None)

    def _finish_body(
        self,
        head: bytes,
        tail: bytes,
        first_chunk_ns: int,
        error: BaseException | None,
        abandoned: bool,
    ) -> None:
        if self.finished:
            return
        try:
            settings = self.telemetry.settings
            # Features exist for the quality scorer; with it off, nothing reads them.
            features = (
                ResponseFeatures(settings.feature_max_chars)
                if self.route.body != BODY_EMBED and settings.quality_enabled
                else None
            )
            sink: TextSink | None = features
            if self.route.body != BODY_EMBED and settings.capture_content:
                sink = _CapturedText(features, settings.capture_content_max_length)
            if not tail:
                summary = parse_body(self.route, head, sink)
            elif self.route.body == BODY_EMBED:
                # Its scalar fields are found by pattern, wherever they sit.
                summary = parse_body(self.route, head + b"\n" + tail, sink)
            else:
                # A huge stream: the head up to its last whole line, then the final chunk
                # from the tail.
                summary = parse_body(self.route, head[: head.rfind(b"\n") + 1], sink)
                _merge_tail(summary, parse_body(self.route, tail, None))
            parsed = True
            if summary.malformed:
                # Not JSON where JSON was due: nothing raised, but worth a count.
                self.telemetry.count_error("malformed_body")
        except Exception:
            self.telemetry.internal_error("response")
            summary, sink, parsed = ResponseSummary(), None, False
        # A stream read to its final chunk (or to an error object) and then closed is
        # complete, not abandoned. Cancelling the task mid-read is the app leaving early too.
        if isinstance(error, asyncio.CancelledError):
            error, abandoned = None, True
        abandoned = abandoned and not summary.done and summary.error is None
        status = self._status
        if error is not None:
            error_type: str | None = type(error).__qualname__
        elif status >= 400:
            error_type = str(status)
        elif not parsed:
            error_type = None  # our parser failed: we cannot tell, so we do not blame the call
        elif summary.error is not None:
            error_type = "ollama_error"
        elif not summary.done and not abandoned:
            error_type = "incomplete_response"
        else:
            error_type = None
        self._finish(summary, error_type, first_chunk_ns, abandoned, sink)

    def _finish(
        self,
        summary: ResponseSummary | None,
        error_type: str | None,
        first_chunk_ns: int,
        abandoned: bool,
        features: TextSink | None,
    ) -> None:
        if self.finished:
            return
        self.finished = True
        span = self.span
        try:
            end_ns = time.perf_counter_ns()
            duration = (end_ns - self._start_ns) / _NS_PER_S
            ttft = (first_chunk_ns - self._start_ns) / _NS_PER_S if first_chunk_ns else None
            self._record(summary, error_type, duration, ttft, abandoned, features)
            hook = self.telemetry.ending_hook
            if hook is not None:
                hook(span, duration)
        except Exception:
            self.telemetry.internal_error("finish")
        finally:
            if self._owns_span:
                try:
                    span.end()
                except Exception:  # a span processor failing in on_end
                    self.telemetry.internal_error("span_end")

    def _record(
        self,
        summary: ResponseSummary | None,
        error_type: str | None,
        duration: float,
        ttft: float | None,
        abandoned: bool,
        sink: TextSink | None,
    ) -> None:
        summary = summary or ResponseSummary()
        # The request's model stands in only when a successful body does not name one
        # (/api/embeddings); a failed call has no response model.
        response_model = summary.model or (self.request.model if error_type is None else None)
        output_tokens = summary.output_tokens
        if output_tokens is None and summary.output_chunks and self.route.body != BODY_EMBED:
            # A stream that never reached its final chunk: one chunk carries about one token.
            output_tokens = summary.output_chunks
        per_token = None
        if summary.eval_duration and summary.output_tokens:
            per_token = summary.eval_duration / summary.output_tokens
        self._set_response_attributes(
            summary, error_type, ttft, abandoned, sink, response_model, output_tokens, per_token
        )
        self._record_metrics(
            summary, error_type, duration, ttft, response_model, output_tokens, per_token
        )
        self._count_and_log(summary, error_type, duration, response_model, output_tokens)

    def _set_response_attributes(
        self,
        summary: ResponseSummary,
        error_type: str | None,
        ttft: float | None,
        abandoned: bool,
        sink: TextSink | None,
        response_model: str | None,
        output_tokens: int | None,
        per_token: float | None,
    ) -> None:
        attrs: dict[str, Any] = {}
        if response_model:
            attrs[sc.GEN_AI_RESPONSE_MODEL] = response_model
        if summary.response_id:
            attrs[sc.GEN_AI_RESPONSE_ID] = summary.response_id
        if summary.done_reason:
            attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] = (summary.done_reason,)
        if summary.input_tokens is not None:
            attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] = summary.input_tokens
        if output_tokens is not None:
            attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = output_tokens
        for key, value in (
            (sc.OLLAMA_TOTAL_DURATION, summary.total_duration),
            (sc.OLLAMA_LOAD_DURATION, summary.load_duration),
            (sc.OLLAMA_PROMPT_EVAL_DURATION, summary.prompt_eval_duration),
            (sc.OLLAMA_EVAL_DURATION, summary.eval_duration),
            (sc.OLLAMA_TIME_PER_OUTPUT_TOKEN, per_token),
        ):
            if value is not None:
                attrs[key] = value
        if summary.tool_calls:
            attrs[sc.OLLAMA_TOOL_CALL_COUNT] = summary.tool_calls
        if summary.embedding_dimensions:
            attrs[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = summary.embedding_dimensions
        if ttft is not None and self.request.stream:
            attrs[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = ttft
        if abandoned:
            attrs[sc.TASKMASTER_STREAM_ABANDONED] = True
        features = sink.features if isinstance(sink, _CapturedText) else sink
        if isinstance(features, ResponseFeatures) and (summary.done or summary.output_chunks):
            attrs.update(features.attributes(summary.done_reason))
        if isinstance(sink, _CapturedText):
            attrs[sc.GEN_AI_OUTPUT_MESSAGES] = self._messages_json(
                [{"role": "assistant", "content": sink.text()}], summary.done_reason
            )
        if error_type is not None:
            attrs[sc.ERROR_TYPE] = error_type
            self.span.set_status(Status(StatusCode.ERROR, summary.error or error_type))
        self.span.set_attributes(attrs)

    def _record_metrics(
        self,
        summary: ResponseSummary,
        error_type: str | None,
        duration: float,
        ttft: float | None,
        response_model: str | None,
        output_tokens: int | None,
        per_token: float | None,
    ) -> None:
        """GenAI semconv and seed metrics, from the same measurements (latencies: see
        ``_count_and_log``).

        Exemplars (see ``otel_taskmaster.exemplars``): the latency histograms (call
        duration, time to first chunk, the seed's request latency) carry this call's span;
        the rest take none."""
        telemetry = self.telemetry
        inst = telemetry.instruments
        model_label = telemetry.models.get(self.request.model or response_model or "")
        base, as_input, as_output = telemetry.metric_attributes(
            self.route.operation, model_label, self.server_address, self.server_port, error_type
        )
        call, none = self.context, NO_EXEMPLAR
        if summary.input_tokens is not None:
            inst.token_usage.record(summary.input_tokens, as_input, context=none)
        if output_tokens is not None:
            inst.token_usage.record(output_tokens, as_output, context=none)
        inst.count_tokens(summary.input_tokens or 0, output_tokens or 0)
        if ttft is not None and self.request.stream:
            inst.time_to_first_chunk.record(ttft, base, context=call)
            if summary.chunks > 1:
                per_chunk = (duration - ttft) / (summary.chunks - 1)
                inst.time_per_output_chunk.record(per_chunk, base, context=none)
        if per_token is not None:
            inst.server_time_per_output_token.record(per_token, base, context=none)
        if self.route.body != BODY_EMBED and error_type is None:
            inst.response_length.record(summary.response_chars, context=none)
        inst.operation_duration.record(duration, base, context=call)

    def _count_and_log(
        self,
        summary: ResponseSummary,
        error_type: str | None,
        duration: float,
        response_model: str | None,
        output_tokens: int | None,
    ) -> None:
        """The seed's request count, latency and log line, unless ``monitor_request`` owns
        the request: then the call only adds what it knows to the request's totals."""
        info = self.request
        scope = self._scope
        if scope is not None and scope.open:
            scope.add_call(
                response_model or info.model,
                summary.input_tokens or 0,
                output_tokens or 0,
                info.prompt_chars,
                summary.response_chars,
            )
            return
        inst = self.telemetry.instruments
        status = sc.STATUS_SUCCESS if error_type is None else sc.STATUS_ERROR
        inst.count_request(self.route.path, status)
        token = otel_context.attach(self.context)
        try:
            inst.request_latency.record(
                duration, {sc.LABEL_ENDPOINT: self.route.path}, context=self.context
            )
            log_request(
                request_id=format(self.span.get_span_context().span_id, "016x"),
                endpoint=self.route.path,
                model=response_model or info.model,
                prompt_length=info.prompt_chars,
                response_length=summary.response_chars,
                latency_ms=duration * 1000.0,
                tokens_in=summary.input_tokens or 0,
                tokens_out=output_tokens or 0,
                error_type=error_type,
            )
        finally:
            otel_context.detach(token)


class _CapturedText:
    """With content capture on, keeps the answer text (up to the capture limit) as well."""

    __slots__ = ("_kept", "_limit", "_parts", "features")

    def __init__(self, features: ResponseFeatures | None, limit: int) -> None:
        self.features = features
        self._parts: list[str] = []
        self._kept = 0
        self._limit = limit

    def add(self, text: str) -> None:
        if self.features is not None:
            self.features.add(text)
        if self._kept < self._limit:
            self._parts.append(text)
            self._kept += len(text)

    def text(self) -> str:
        return "".join(self._parts)


def _merge_tail(summary: ResponseSummary, tail: ResponseSummary) -> None:
    """Past the keep limit, the final chunk comes from the kept tail."""
    if tail.done:
        for name in (
            "model",
            "done",
            "done_reason",
            "input_tokens",
            "output_tokens",
            "total_duration",
            "load_duration",
            "prompt_eval_duration",
            "eval_duration",
        ):
            setattr(summary, name, getattr(tail, name))
    if tail.error:
        summary.error = tail.error
