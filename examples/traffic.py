"""Sends a little traffic to TaskMaster for the demo, then prints a summary.

python examples/traffic.py --url http://127.0.0.1:8000 --requests 20 --stream-every 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

PROMPTS = (
    "Plan the Q3 budget review with finance and list the first three steps.",
    "Create a task to renew the office lease before the end of the month.",
    "Break the website redesign into tasks for design, content and engineering.",
    "Remind the team to submit expense reports by Friday.",
    "Draft an agenda for Monday's project kickoff meeting.",
    "Turn the customer feedback backlog into prioritised follow-up tasks.",
    "Schedule onboarding tasks for two new engineers starting next week.",
    "Summarise the open action items from yesterday's incident review.",
)


@dataclass(frozen=True)
class Result:
    status: int
    seconds: float
    tokens_in: int = 0
    tokens_out: int = 0
    streamed: bool = False


async def send_one(client: httpx.AsyncClient, prompt: str, stream: bool) -> Result:
    started = time.perf_counter()
    try:
        if stream:
            return await _send_streamed(client, prompt, started)
        response = await client.post("/v1/tasks", json={"prompt": prompt})
        body = response.json() if response.status_code == 200 else {}
        return Result(
            response.status_code,
            time.perf_counter() - started,
            body.get("tokens_in", 0),
            body.get("tokens_out", 0),
        )
    except httpx.HTTPError:
        return Result(0, time.perf_counter() - started, streamed=stream)


async def _send_streamed(client: httpx.AsyncClient, prompt: str, started: float) -> Result:
    async with client.stream("POST", "/v1/tasks", json={"prompt": prompt, "stream": True}) as r:
        last: dict[str, object] = {}
        async for line in r.aiter_lines():
            if line.strip():
                last = json.loads(line)
    status = r.status_code if "error" not in last else 502
    tokens_in = last.get("tokens_in", 0)
    tokens_out = last.get("tokens_out", 0)
    return Result(
        status,
        time.perf_counter() - started,
        tokens_in if isinstance(tokens_in, int) else 0,
        tokens_out if isinstance(tokens_out, int) else 0,
        streamed=True,
    )


async def run(url: str, requests: int, concurrency: int, stream_every: int) -> list[Result]:
    limit = asyncio.Semaphore(max(1, concurrency))
    async with httpx.AsyncClient(base_url=url, timeout=60.0) as client:

        async def one(index: int) -> Result:
            async with limit:
                stream = stream_every > 0 and index % stream_every == stream_every - 1
                return await send_one(client, PROMPTS[index % len(PROMPTS)], stream)

        return list(await asyncio.gather(*(one(i) for i in range(requests))))


def summarize(results: Sequence[Result]) -> str:
    statuses = Counter(r.status for r in results)
    by_status = ", ".join(f"{k or 'no answer'}={v}" for k, v in sorted(statuses.items()))
    latencies = sorted(r.seconds for r in results)
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else 0.0
    return "\n".join(
        [
            f"requests: {len(results)} ({sum(r.streamed for r in results)} streamed)",
            f"status:   {by_status}",
            f"latency:  p50={statistics.median(latencies) if latencies else 0:.3f}s p95={p95:.3f}s",
            f"tokens:   in={sum(r.tokens_in for r in results)}"
            f" out={sum(r.tokens_out for r in results)}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="TaskMaster base URL")
    parser.add_argument("-n", "--requests", type=int, default=10)
    parser.add_argument("-c", "--concurrency", type=int, default=2)
    parser.add_argument(
        "--stream-every", type=int, default=3, help="every Nth request streams (0: none)"
    )
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.url, args.requests, args.concurrency, args.stream_every))
    print(summarize(results))
    return 0 if results and all(r.status == 200 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
