"""TaskMaster: a small task assistant served over HTTP, answering through Ollama.

Run it instrumented, with no code change::

    opentelemetry-instrument python examples/serve.py

Endpoints:
    POST /v1/tasks  {"prompt": "...", "stream": false}
                    -> {"response", "model", "tokens_in", "tokens_out", "request_id"}
                    With "stream": true the answer comes as NDJSON lines: {"delta": "..."}
                    per chunk, then one final line with the same fields as above (minus
                    "response") and "done": true.
    GET  /healthz   -> {"status": "ok", "model": ...}

Environment: PORT (8000), HOST (127.0.0.1), OLLAMA_HOST (http://127.0.0.1:11434),
TASKMASTER_MODEL (llama3.2), TASKMASTER_LLM_CLIENT (``ollama`` or ``litellm``).

This file holds no OpenTelemetry setup: ``opentelemetry-instrument`` does it from outside.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from otel_taskmaster import monitor_request

logger = logging.getLogger("taskmaster.app")

SYSTEM_PROMPT = (
    "You are TaskMaster, an assistant that turns requests into clear, actionable tasks "
    "with owners, due dates and next steps."
)

OnChunk = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Answer:
    content: str
    model: str
    usage: Usage


class LLMError(Exception):
    """Ollama could not answer (down, erroring, or an unexpected reply)."""


def ollama_base_url(value: str | None) -> str:
    """``OLLAMA_HOST`` as a URL (``host``, ``host:port`` and full URLs all work)."""
    value = (value or "").strip() or "127.0.0.1:11434"
    if "://" not in value:
        value = "http://" + value
    scheme, _, rest = value.partition("://")
    host = rest.split("/", 1)[0]
    if ":" not in host.rsplit("]", 1)[-1]:
        host += ":11434"
    return f"{scheme}://{host.replace('0.0.0.0', '127.0.0.1')}"


@dataclass(frozen=True)
class AppConfig:
    model: str
    ollama_url: str
    llm_client: str

    @classmethod
    def from_env(cls) -> AppConfig:
        client = os.environ.get("TASKMASTER_LLM_CLIENT", "ollama").strip().lower() or "ollama"
        if client not in ("ollama", "litellm"):
            raise SystemExit(f"TASKMASTER_LLM_CLIENT must be 'ollama' or 'litellm', not {client!r}")
        return cls(
            model=os.environ.get("TASKMASTER_MODEL", "").strip() or "llama3.2",
            ollama_url=ollama_base_url(os.environ.get("OLLAMA_HOST")),
            llm_client=client,
        )


class Backend(Protocol):
    async def complete(
        self, messages: list[dict[str, str]], on_chunk: OnChunk | None
    ) -> Answer: ...


class OllamaBackend:
    """Talks to Ollama with the ``ollama`` package's AsyncClient."""

    def __init__(self, config: AppConfig) -> None:
        import ollama

        self._model = config.model
        self._client = ollama.AsyncClient(host=config.ollama_url)

    async def complete(self, messages: list[dict[str, str]], on_chunk: OnChunk | None) -> Answer:
        if on_chunk is None:
            reply = await self._client.chat(model=self._model, messages=messages)
            return Answer(
                content=reply.message.content or "",
                model=reply.model or self._model,
                usage=Usage(reply.prompt_eval_count or 0, reply.eval_count or 0),
            )
        parts: list[str] = []
        model, tokens_in, tokens_out = self._model, 0, 0
        async for chunk in await self._client.chat(
            model=self._model, messages=messages, stream=True
        ):
            text = chunk.message.content or ""
            if text:
                parts.append(text)
                await on_chunk(text)
            if chunk.done:
                model = chunk.model or model
                tokens_in, tokens_out = chunk.prompt_eval_count or 0, chunk.eval_count or 0
        return Answer("".join(parts), model, Usage(tokens_in, tokens_out))


class LiteLLMBackend:
    """Talks to Ollama through LiteLLM's ``ollama_chat/`` provider."""

    def __init__(self, config: AppConfig) -> None:
        import litellm  # imported only when configured: it takes seconds to import

        self._acompletion = litellm.acompletion
        self._model = config.model
        self._api_base = config.ollama_url

    async def complete(self, messages: list[dict[str, str]], on_chunk: OnChunk | None) -> Answer:
        target = f"ollama_chat/{self._model}"
        if on_chunk is None:
            reply: Any = await self._acompletion(
                model=target, messages=messages, api_base=self._api_base
            )
            usage = getattr(reply, "usage", None)
            return Answer(
                content=reply.choices[0].message.content or "",
                model=_strip_provider(reply.model) or self._model,
                usage=Usage(
                    getattr(usage, "prompt_tokens", 0) or 0,
                    getattr(usage, "completion_tokens", 0) or 0,
                ),
            )
        stream: Any = await self._acompletion(
            model=target,
            messages=messages,
            api_base=self._api_base,
            stream=True,
            stream_options={"include_usage": True},
        )
        parts: list[str] = []
        tokens_in = tokens_out = 0
        async for chunk in stream:
            if chunk.choices:
                text = chunk.choices[0].delta.content or ""
                if text:
                    parts.append(text)
                    await on_chunk(text)
            usage = getattr(chunk, "usage", None)
            if usage:
                tokens_in = usage.prompt_tokens or tokens_in
                tokens_out = usage.completion_tokens or tokens_out
        return Answer("".join(parts), self._model, Usage(tokens_in, tokens_out))


def _strip_provider(model: str | None) -> str:
    return (model or "").split("/", 1)[-1]


class TaskMaster:
    """The service: request validation, one Ollama call per task, errors as HTTP replies."""

    def __init__(self, config: AppConfig) -> None:
        self.config = config
        self.backend: Backend = (
            LiteLLMBackend(config) if config.llm_client == "litellm" else OllamaBackend(config)
        )

    @monitor_request("tasks")
    async def answer(
        self, prompt: str, on_chunk: OnChunk | None = None, *, request_id: str | None = None
    ) -> Answer:
        """The monitored operation: one task answered by the model.

        ``request_id`` is read by ``monitor_request``, so logs and spans carry the same id
        as the HTTP reply.
        """
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": prompt},
        ]
        try:
            return await self.backend.complete(messages, on_chunk)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any client failure is the same thing to our callers
            raise LLMError(f"{type(exc).__name__}: {exc}") from exc

    async def tasks(self, request: Request) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        try:
            prompt, stream = _parse_task(await request.body())
        except ValueError as exc:
            return JSONResponse({"error": str(exc), "request_id": request_id}, status_code=400)
        if stream:
            return await self._stream(prompt, request_id)
        try:
            answer = await self.answer(prompt, request_id=request_id)
        except LLMError as exc:
            return _backend_error(exc, request_id)
        return JSONResponse({"response": answer.content, **_summary(answer, request_id)})

    async def _stream(self, prompt: str, request_id: str) -> Response:
        # The monitored call runs as a task and hands chunks over a queue, so its span and
        # metrics cover the whole streamed answer, not just the handler's return. Unbounded
        # on purpose: it holds one answer at most, and put_nowait never blocks the producer.
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        async def on_chunk(text: str) -> None:
            queue.put_nowait(text)

        async def run() -> Answer:
            try:
                return await self.answer(prompt, on_chunk=on_chunk, request_id=request_id)
            finally:
                queue.put_nowait(None)

        task = asyncio.ensure_future(run())
        # Wait for the first chunk, so a backend that is down still gets a 502, not a 200.
        first = await queue.get()
        if first is None:
            try:
                await task
            except LLMError as exc:
                return _backend_error(exc, request_id)
        return StreamingResponse(
            self._relay(first, queue, task, request_id), media_type="application/x-ndjson"
        )

    async def _relay(
        self,
        text: str | None,
        queue: asyncio.Queue[str | None],
        task: asyncio.Future[Answer],
        request_id: str,
    ) -> AsyncIterator[bytes]:
        try:
            while text is not None:
                yield _line({"delta": text})
                text = await queue.get()
            answer = await task
        except LLMError as exc:
            logger.warning("LLM call failed while streaming: %s", exc)
            yield _line({"error": f"model backend unavailable: {exc}", "request_id": request_id})
            return
        finally:
            if not task.done():  # the client went away mid-answer
                task.cancel()
        yield _line({"done": True, **_summary(answer, request_id)})

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "model": self.config.model})


def _backend_error(exc: LLMError, request_id: str) -> Response:
    logger.warning("LLM call failed: %s", exc)
    return JSONResponse(
        {"error": f"model backend unavailable: {exc}", "request_id": request_id},
        status_code=502,
    )


def _parse_task(body: bytes) -> tuple[str, bool]:
    try:
        payload = json.loads(body)
    except ValueError:
        raise ValueError('body must be JSON like {"prompt": "..."}') from None
    if not isinstance(payload, dict):
        raise ValueError('body must be a JSON object like {"prompt": "..."}')
    prompt = payload.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError('"prompt" is required and must be a non-empty string')
    stream = payload.get("stream", False)
    if not isinstance(stream, bool):
        raise ValueError('"stream" must be true or false')
    return prompt, stream


def _summary(answer: Answer, request_id: str) -> dict[str, Any]:
    return {
        "model": answer.model,
        "tokens_in": answer.usage.prompt_tokens,
        "tokens_out": answer.usage.completion_tokens,
        "request_id": request_id,
    }


def _line(item: dict[str, Any]) -> bytes:
    return json.dumps(item).encode() + b"\n"


def create_app(config: AppConfig | None = None) -> Starlette:
    service = TaskMaster(config or AppConfig.from_env())
    return Starlette(
        routes=[
            Route("/v1/tasks", service.tasks, methods=["POST"]),
            Route("/healthz", service.healthz, methods=["GET"]),
        ]
    )


def _log_to_stderr() -> None:
    # A handler of our own: under opentelemetry-instrument the root logger already has the
    # OTel handler, so logging.basicConfig() would do nothing and warnings would not show.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def main() -> None:
    _log_to_stderr()
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


if __name__ == "__main__":
    main()
