"""Byte-stream wrappers that watch a streamed response go past and end its span once.

Each chunk is handed to the app as soon as it arrives; the wrapper only keeps a reference
to it (bounded: past ``max_bytes`` only the last ``TAIL_BYTES``, which hold the final
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

# Bytes kept past the head limit. The final chunk must fit whole: /api/generate's carries
# the "context" token ids, some kilobytes for a long conversation.
TAIL_BYTES = 1024 * 1024


class _Observed:
    """What both wrappers keep while the stream runs."""

    __slots__ = (
        "_aligned",
        "_call",
        "_chunks",
        "_dropped",
        "_first_chunk_ns",
        "_max_bytes",
        "_tail",
        "_tail_bytes",
    )

    def __init__(self, call: LLMCall, max_bytes: int) -> None:
        self._call = call
        self._chunks: list[bytes] = []
        self._tail: deque[bytes] = deque()
        self._tail_bytes = 0
        self._dropped = False  # some chunks between head and tail were let go
        self._aligned = True  # the tail starts at a line start
        self._max_bytes = max_bytes
        self._first_chunk_ns = 0

    def _keep_tail(self, chunk: bytes) -> None:
        """Past the head limit: keep a sliding tail that still holds the final chunk."""
        tail = self._tail
        tail.append(chunk)
        self._tail_bytes += len(chunk)
        while self._tail_bytes - len(tail[0]) >= TAIL_BYTES:
            dropped = tail.popleft()
            self._tail_bytes -= len(dropped)
            self._dropped = True
            self._aligned = dropped.endswith(b"\n")

    def _body(self) -> tuple[bytes, bytes]:
        """(head, tail): the whole body and b"" while nothing was let go; else the head and
        the tail from its first whole line on."""
        head = b"".join(self._chunks)
        tail = b"".join(self._tail)
        if not self._dropped:
            return head + tail, b""
        if not self._aligned:
            tail = tail[tail.find(b"\n") + 1 :]
        return head, tail

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
        # The per-chunk path, inlined (a method call per chunk tripled its cost).
        chunks, room = self._chunks, self._max_bytes
        try:
            for chunk in self._inner:
                if room > 0:
                    if not chunks:
                        self._first_chunk_ns = time.perf_counter_ns()
                    chunks.append(chunk)
                    room -= len(chunk)
                else:
                    self._keep_tail(chunk)
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
        # The per-chunk path, inlined (a method call per chunk tripled its cost).
        chunks, room = self._chunks, self._max_bytes
        try:
            async for chunk in self._inner:
                if room > 0:
                    if not chunks:
                        self._first_chunk_ns = time.perf_counter_ns()
                    chunks.append(chunk)
                    room -= len(chunk)
                else:
                    self._keep_tail(chunk)
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
