"""The simulated Ollama: request body in, :class:`Response` out, faults applied.

Reported durations (``total_duration``, ``load_duration``, ``prompt_eval_duration``,
``eval_duration``, nanoseconds) are the pretend model's nominal timings: a cold model load of
1-2.5 s, ~1.5 ms per prompt token, 20-40 ms per output token depending on the model. The
server really waits ``time_scale`` times those (1.0 = real time, 0 = no sleeps at all, for
benchmarks); the ``slow`` and ``slow_chunk`` faults add their seconds on top, unscaled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from otel_taskmaster.simulator import answers
from otel_taskmaster.simulator.catalog import DEFAULT_MODELS, ModelInfo, canonical, model_info
from otel_taskmaster.simulator.faults import FaultBox, Faults
from otel_taskmaster.simulator.parsing import (
    BadRequest,
    content,
    int_option,
    keep_alive_seconds,
    parse_json,
    tool_calls_for,
)
from otel_taskmaster.simulator.plan import STREAM_ERROR, AnswerPlan, now
from otel_taskmaster.simulator.responses import (
    NDJSON,
    SSE,
    TEXT,
    Response,
    dumps,
    json_response,
    not_found,
    ollama_error,
    openai_error,
)

OLLAMA_VERSION = "0.12.6"
RUNNER_ERROR = "llama runner process has terminated: signal: killed"
CHUNKS_HEADER = "x-simulator-chunks"
_MS = 1_000_000  # nanoseconds


class Simulator:
    """Answers Ollama API requests from a model catalog, with switchable faults."""

    def __init__(
        self,
        models: Sequence[str] = DEFAULT_MODELS,
        faults: FaultBox | None = None,
        time_scale: float = 1.0,
    ) -> None:
        self.models: dict[str, ModelInfo] = {canonical(m): model_info(m) for m in models}
        self.faults = faults or FaultBox()
        self.time_scale = time_scale
        self._lock = threading.Lock()
        # canonical name -> expiry; the first model starts loaded, as after `ollama run`.
        self._loaded: dict[str, datetime] = {}
        if self.models:
            self._mark_loaded(next(iter(self.models)), keep_alive=None)
        self._ids = 0

    # -- routing --------------------------------------------------------------------------

    def handle(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> Response:
        route = _ROUTES.get((method, path))
        if route is None:
            return not_found()
        openai = path.startswith("/v1/")
        try:
            return route(self, body, headers)
        except BadRequest as exc:
            return (openai_error if openai else ollama_error)(exc.status, exc.message)

    def root(self, body: bytes, headers: Mapping[str, str]) -> Response:
        return Response(200, TEXT, b"Ollama is running")

    def version(self, body: bytes, headers: Mapping[str, str]) -> Response:
        return json_response({"version": OLLAMA_VERSION})

    def tags(self, body: bytes, headers: Mapping[str, str]) -> Response:
        faults = self.faults.current
        models = [
            {
                "name": info.name,
                "model": info.name,
                "modified_at": "2025-10-01T12:00:00.000000Z",
                "size": info.size,
                "digest": info.digest,
                "details": info.details(),
            }
            for info in self.models.values()
            if not faults.is_unloaded(info.name)
        ]
        return json_response({"models": models})

    def ps(self, body: bytes, headers: Mapping[str, str]) -> Response:
        faults = self.faults.current
        now = datetime.now(UTC)
        running = []
        with self._lock:
            for name, expires in list(self._loaded.items()):
                if expires < now or faults.is_unloaded(name):
                    del self._loaded[name]
                    continue
                info = self.models[name]
                running.append(
                    {
                        "name": name,
                        "model": name,
                        "size": info.size + info.size // 4,
                        "digest": info.digest,
                        "details": info.details(),
                        "expires_at": expires.isoformat().replace("+00:00", "Z"),
                        "size_vram": info.size + info.size // 4,
                        "context_length": 4096,
                    }
                )
        return json_response({"models": running})

    def show(self, body: bytes, headers: Mapping[str, str]) -> Response:
        request = parse_json(body)
        name = request.get("model") or request.get("name") or ""
        info = self._model(name, openai=False, check_loaded=False)
        embedding_only = info.family in ("bert", "nomic-bert")
        return json_response(
            {
                "license": "simulated",
                "modelfile": f"FROM {info.name}\n",
                "parameters": 'stop "<|eot_id|>"',
                "template": "{{ .Prompt }}",
                "details": info.details(),
                "model_info": {
                    "general.architecture": info.family,
                    f"{info.family}.context_length": 131072,
                    f"{info.family}.embedding_length": info.dimensions,
                },
                "capabilities": ["embedding"] if embedding_only else ["completion", "tools"],
                "modified_at": "2025-10-01T12:00:00.000000Z",
            }
        )

    # -- model calls ----------------------------------------------------------------------

    def chat(self, body: bytes, headers: Mapping[str, str]) -> Response:
        return self._generate(parse_json(body), headers, kind="chat")

    def generate(self, body: bytes, headers: Mapping[str, str]) -> Response:
        return self._generate(parse_json(body), headers, kind="generate")

    def openai_chat(self, body: bytes, headers: Mapping[str, str]) -> Response:
        return self._generate(parse_json(body), headers, kind="openai")

    def openai_models(self, body: bytes, headers: Mapping[str, str]) -> Response:
        data = [
            {"id": info.name, "object": "model", "created": 1727784000, "owned_by": "library"}
            for info in self.models.values()
        ]
        return json_response({"object": "list", "data": data})

    def embed(self, body: bytes, headers: Mapping[str, str]) -> Response:
        request = parse_json(body)
        info = self._model(request.get("model"), openai=False)
        faults = self.faults.current
        failure = self._early_faults(faults, openai=False)
        if failure is not None:
            return failure
        raw = request.get("input", [])
        if isinstance(raw, str):
            inputs = [raw]
        elif isinstance(raw, list) and all(isinstance(x, str) for x in raw):
            inputs = raw
        else:
            raise BadRequest(400, "invalid input type")
        dims = request.get("dimensions") or info.dimensions
        if not isinstance(dims, int) or dims <= 0:
            raise BadRequest(400, "dimensions must be a positive integer")
        dims = min(dims, info.dimensions)
        vectors = [
            answers.embedding(text, model=info.name, dimensions=dims, normalize=True)
            for text in inputs
        ]
        tokens = sum(answers.count_tokens(text) for text in inputs)
        load = self._load_ns(info, request.get("keep_alive"))
        total = load + tokens * 300_000 + 2 * _MS
        self._wait(total)
        return self._maybe_cut(
            json_response(
                {
                    "model": request.get("model"),
                    "embeddings": vectors,
                    "total_duration": total,
                    "load_duration": load,
                    "prompt_eval_count": tokens,
                }
            ),
            faults,
        )

    def embeddings(self, body: bytes, headers: Mapping[str, str]) -> Response:
        request = parse_json(body)
        info = self._model(request.get("model"), openai=False)
        faults = self.faults.current
        failure = self._early_faults(faults, openai=False)
        if failure is not None:
            return failure
        prompt = request.get("prompt") or ""
        if not isinstance(prompt, str):
            raise BadRequest(400, "invalid prompt type")
        load = self._load_ns(info, request.get("keep_alive"))
        self._wait(load + answers.count_tokens(prompt) * 300_000)
        vector = (
            answers.embedding(prompt, model=info.name, dimensions=info.dimensions, normalize=False)
            if prompt
            else []
        )
        return self._maybe_cut(json_response({"embedding": vector}), faults)

    # -- the shared generation path -------------------------------------------------------

    def _generate(self, request: dict[str, Any], headers: Mapping[str, str], kind: str) -> Response:
        openai = kind == "openai"
        model_name = request.get("model")
        info = self._model(model_name, openai=openai)
        faults = self.faults.current
        stream = bool(request.get("stream", not openai))
        prompt, prompt_tokens, tool_turn = self._prompt(request, kind)

        if kind != "openai" and not prompt and not request.get("images"):
            # An empty prompt only loads the model, and says so.
            self._wait(self._load_ns(info, request.get("keep_alive")))
            body: dict[str, Any] = {"model": model_name, "created_at": now()}
            if kind == "chat":
                body["message"] = {"role": "assistant", "content": ""}
            else:
                body["response"] = ""
            body.update(done=True, done_reason="load")
            if stream:
                return Response(200, NDJSON, chunks=iter([dumps(body) + b"\n"]))
            return json_response(body)

        failure = self._early_faults(faults, openai=openai)
        if failure is not None:
            return failure

        options = request.get("options") or {}
        if not isinstance(options, dict):
            raise BadRequest(400, "options must be an object")
        seed = int_option(options.get("seed", request.get("seed", 0)), "seed")
        max_tokens = int_option(
            options.get("num_predict")
            if not openai
            else request.get("max_completion_tokens", request.get("max_tokens")),
            "num_predict",
        )
        exact = int_option(headers.get(CHUNKS_HEADER) or faults.chunks or None, CHUNKS_HEADER)
        if exact is not None and exact <= 0:
            exact = None

        style, truncate_at = "normal", None
        if self.faults.roll(faults.refusal):
            style = "refusal"
        elif self.faults.roll(faults.repetition):
            style = "repetition"
        elif self.faults.roll(faults.truncate):
            truncate_at = self.faults.fraction(0.3, 0.7)

        tool_calls = None
        tools = request.get("tools") or []
        if tools and not tool_turn and style == "normal" and exact is None:
            tool_calls = tool_calls_for(tools, prompt, openai=openai)
        if tool_calls is not None:
            answer = answers.Answer(tuple(answers.tokenize(dumps(tool_calls).decode())), "stop")
            pieces: tuple[str, ...] = ()
        else:
            answer = answers.compose(
                prompt,
                model=info.name,
                seed=seed or 0,
                style=style,
                max_tokens=max_tokens if max_tokens and max_tokens > 0 else None,
                exact_tokens=exact,
                truncate_at=truncate_at,
            )
            if request.get("format") and style == "normal" and exact is None:
                answer = _as_json(answer, max_tokens)
            pieces = answer.pieces
        eval_count = max(len(answer.pieces), 1)
        load = self._load_ns(info, request.get("keep_alive"))
        prompt_ns = prompt_tokens * 1_500_000 + 12 * _MS
        per_token_ns = int(info.ms_per_token * _MS)
        stats = {
            "total_duration": load + prompt_ns + eval_count * per_token_ns + 1_300_000,
            "load_duration": load,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": prompt_ns,
            "eval_count": eval_count,
            "eval_duration": eval_count * per_token_ns,
        }
        mid_error = self.faults.roll(faults.stream_errors)
        disconnect = self.faults.roll(faults.disconnect)
        plan = AnswerPlan(
            kind=kind,
            model=model_name or "",
            pieces=pieces,
            text=answer.text if tool_calls is None else "",
            tool_calls=tool_calls,
            done_reason=answer.done_reason,
            stats=stats,
            context=answers.token_ids(pieces, model=info.name) if kind == "generate" else None,
            first_delay=(load + prompt_ns) / 1e9 * self.time_scale,
            chunk_delay=per_token_ns / 1e9 * self.time_scale + faults.slow_chunk,
            include_usage=_include_usage(request.get("stream_options")),
            completion_id=f"chatcmpl-{self._next_id()}",
        )
        if not stream:
            if mid_error:
                self._wait(load + prompt_ns)
                return (openai_error if openai else ollama_error)(500, STREAM_ERROR)
            self._wait(stats["total_duration"])
            return self._maybe_cut(json_response(plan.final_body()), faults, disconnect)
        content_type = SSE if openai else NDJSON
        return Response(200, content_type, chunks=plan.stream(mid_error, disconnect))

    # -- helpers --------------------------------------------------------------------------

    def _model(self, name: Any, openai: bool, check_loaded: bool = True) -> ModelInfo:
        if not name or not isinstance(name, str):
            raise BadRequest(400, "model is required")
        key = canonical(name)
        info = self.models.get(key)
        if info is None or (check_loaded and self.faults.current.is_unloaded(key)):
            with self._lock:
                self._loaded.pop(key, None)
            raise BadRequest(404, f'model "{name}" not found, try pulling it first')
        return info

    def _early_faults(self, faults: Faults, openai: bool) -> Response | None:
        if faults.slow:
            time.sleep(faults.slow)
        if self.faults.roll(faults.errors):
            return (openai_error if openai else ollama_error)(500, RUNNER_ERROR)
        return None

    def _maybe_cut(self, response: Response, faults: Faults, roll: bool | None = None) -> Response:
        if roll if roll is not None else self.faults.roll(faults.disconnect):
            response.cut_after = len(response.body) // 2
        return response

    def _prompt(self, request: dict[str, Any], kind: str) -> tuple[str, int, bool]:
        """The text the answer is about, the prompt's token count, and whether a tool answered."""
        if kind == "generate":
            prompt = request.get("prompt") or ""
            if not isinstance(prompt, str):
                raise BadRequest(400, "prompt must be a string")
            system = request.get("system") or ""
            tokens = answers.count_tokens(prompt) + answers.count_tokens(str(system)) + 8
            return prompt, tokens if prompt else 0, False
        messages = request.get("messages") or []
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise BadRequest(400, "messages must be a list of objects")
        tokens = 1
        for message in messages:
            tokens += answers.count_tokens(content(message.get("content"))) + 4
        last = messages[-1] if messages else {}
        users = [m for m in messages if m.get("role") == "user"]
        prompt = content((users[-1] if users else last).get("content"))
        if last.get("role") == "tool":
            prompt = content(last.get("content")) or prompt
        return prompt, tokens if messages else 0, last.get("role") == "tool"

    def _load_ns(self, info: ModelInfo, keep_alive: Any) -> int:
        """Load time for this call: long when the model was not in memory, tiny otherwise."""
        with self._lock:
            cold = info.name not in self._loaded
            self._mark_loaded(info.name, keep_alive)
        if cold:
            return 1_000 * _MS + int(info.digest[4:8], 16) % 1500 * _MS
        return 2 * _MS + int(info.digest[8:10], 16) % 7 * _MS

    def _mark_loaded(self, name: str, keep_alive: Any) -> None:
        seconds = keep_alive_seconds(keep_alive)
        if seconds == 0:
            self._loaded.pop(name, None)
            return
        self._loaded[name] = datetime.now(UTC) + timedelta(seconds=seconds)

    def _wait(self, nominal_ns: int) -> None:
        """Sleeps for a nominal duration, scaled by ``time_scale`` (never, when it is 0)."""
        if nominal_ns > 0 and self.time_scale > 0:
            time.sleep(nominal_ns / 1e9 * self.time_scale)

    def _next_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids


def _include_usage(stream_options: Any) -> bool:
    return isinstance(stream_options, dict) and bool(stream_options.get("include_usage"))


def _as_json(answer: answers.Answer, max_tokens: int | None) -> answers.Answer:
    """``format: "json"`` (or a schema): the answer wrapped in a JSON object."""
    pieces = answers.tokenize(dumps({"answer": answer.text}).decode())
    if max_tokens and 0 < max_tokens < len(pieces):
        return answers.Answer(tuple(pieces[:max_tokens]), "length")
    return answers.Answer(tuple(pieces), answer.done_reason)


_ROUTES = {
    ("GET", "/"): Simulator.root,
    ("GET", "/api/version"): Simulator.version,
    ("GET", "/api/tags"): Simulator.tags,
    ("GET", "/api/ps"): Simulator.ps,
    ("POST", "/api/show"): Simulator.show,
    ("POST", "/api/chat"): Simulator.chat,
    ("POST", "/api/generate"): Simulator.generate,
    ("POST", "/api/embed"): Simulator.embed,
    ("POST", "/api/embeddings"): Simulator.embeddings,
    ("POST", "/v1/chat/completions"): Simulator.openai_chat,
    ("GET", "/v1/models"): Simulator.openai_models,
}
ROUTED_PATHS = frozenset(path for _, path in _ROUTES)
