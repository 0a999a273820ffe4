"""Byte-stream wrappers that watch a streamed response go past and end its span once.

Each chunk is handed to the app as soon as it arrives; the wrapper only keeps a reference
to it (bounded: past ``max_bytes`` only the last few chunks, which hold the final
``done`` object, are kept). The body is parsed once at the end. Every way out of the
stream (exhausted, ``break``/``close()``, garbage collection, cancellation, an error
mid-way) goes through the call's single ``finish``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from otel_taskmaster.instrumentation.ollama.invocation import LLMCall

_TAIL_CHUNKS = 8


class _Observed:
    """What both wrappers keep while the stream runs."""

    __slots__ = ("_call", "_chunks", "_first_chunk_ns", "_kept", "_max_bytes", "_tail")

    def __init__(self, call: LLMCall, max_bytes: int) -> None:
        self._call = call
        self._chunks: list[bytes] = []
        self._tail: deque[bytes] = deque(maxlen=_TAIL_CHUNKS)
        self._kept = 0
        self._max_bytes = max_bytes
        self._first_chunk_ns = 0

    def _keep(self, chunk: bytes) -> None:
        if not self._first_chunk_ns:
            self._first_chunk_ns = time.perf_counter_ns()
        if self._kept < self._max_bytes:
            self._chunks.append(chunk)
            self._kept += len(chunk)
        else:
            self._tail.append(chunk)

    def _body(self) -> tuple[bytes, bytes]:
        return b"".join(self._chunks), b"".join(self._tail)

    def _end(self, error: BaseException | None = None, abandoned: bool = False) -> None:
        call = self._call
        if call.finished:
            return
        head, tail = self._body()
        self._chunks = []
        self._tail.clear()
        call.finish_stream(head, tail, self._first_chunk_ns, error=error, abandoned=abandoned)


class ObservedSyncStream(_Observed, httpx.SyncByteStream):
    __slots__ = ("_inner",)

    def __init__(self, inner: httpx.SyncByteStream, call: LLMCall, max_bytes: int) -> None:
        super().__init__(call, max_bytes)
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        keep = self._keep
        try:
            for chunk in self._inner:
                keep(chunk)
                yield chunk
        except GeneratorExit:
            self._end(abandoned=True)
            raise
        except BaseException as exc:
            self._end(error=exc)
            raise
        self._end()

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._end(abandoned=True)

    def __del__(self) -> None:
        if not self._call.finished:
            self._end(abandoned=True)


class ObservedAsyncStream(_Observed, httpx.AsyncByteStream):
    __slots__ = ("_inner",)

    def __init__(self, inner: httpx.AsyncByteStream, call: LLMCall, max_bytes: int) -> None:
        super().__init__(call, max_bytes)
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        keep = self._keep
        try:
            async for chunk in self._inner:
                keep(chunk)
                yield chunk
        except GeneratorExit:
            self._end(abandoned=True)
            raise
        except BaseException as exc:
            self._end(error=exc)
            raise
        self._end()

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._end(abandoned=True)

    def __del__(self) -> None:
        if not self._call.finished:
            self._end(abandoned=True)
