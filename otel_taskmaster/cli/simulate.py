"""``otel-taskmaster simulate``: run the Ollama-compatible simulator or a replay server."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from otel_taskmaster.simulator.catalog import DEFAULT_MODELS
from otel_taskmaster.simulator.faults import FAULT_NAMES, FaultError, Faults

_DESCRIPTION = """\
An Ollama-API-compatible server (standard library only): /api/chat, /api/generate,
/api/embed, /api/embeddings, /api/tags, /api/ps, /api/show, /api/version and the
OpenAI-compatible /v1/chat/completions, with deterministic answers, realistic token counts
and durations, and faults you can switch on at start (--fault) or at runtime:

  curl -X POST localhost:11434/_simulator/faults -d '{"errors": 0.2, "slow": 1.5}'
  curl -X DELETE localhost:11434/_simulator/faults
"""

_FAULTS_HELP = """\
faults (NAME alone uses the default in brackets):
  slow=SECONDS         extra wait before each model call answers [1.0]
  slow_chunk=SECONDS   extra wait before each streamed chunk [0.05]
  errors=P             probability of HTTP 500 {"error": ...} [1.0]
  stream_errors=P      probability that a stream ends with an {"error": ...} line [1.0]
  repetition=P         probability that an answer loops on one sentence [1.0]
  truncate=P           probability that an answer is cut short, done_reason "length" [1.0]
  refusal=P            probability of a refusal ("I'm sorry, but I can't ...") [1.0]
  disconnect=P         probability that the connection drops mid-response [1.0]
  unloaded[=MODELS]    models not loaded: 404 on chat/generate, gone from /api/ps and
                       /api/tags ("*" = all) [*]
  chunks=N             every answer is exactly N tokens / stream chunks [64]
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "simulate",
        help="run an Ollama-compatible simulator (or replay recorded traffic)",
        description=_DESCRIPTION,
        epilog=_FAULTS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=11434, help="port, 0 = any free (default: %(default)s)"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help=f"switch a fault on; repeatable ({', '.join(FAULT_NAMES)})",
    )
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument(
        "--fast",
        action="store_true",
        help="never sleep (for benchmarks); the durations in answers stay realistic",
    )
    speed.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply the model's timings, simulated or recorded (1 = real time, 0.1 = ten "
        "times faster; default: %(default)s)",
    )
    parser.add_argument(
        "--model",
        action="append",
        dest="models",
        metavar="NAME",
        help=f"a model the simulator has; repeatable; the first starts loaded "
        f"(default: {', '.join(DEFAULT_MODELS)})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault dice (default: 0)")
    parser.add_argument(
        "--replay", metavar="DIR", help="replay the VCR cassettes (*.yaml) in DIR instead"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.set_defaults(func=run)
    return parser


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM ends the server as cleanly as Ctrl-C does


def run(args: argparse.Namespace) -> int:
    from otel_taskmaster.simulator.server import make_server

    try:
        faults = Faults.parse(args.fault)
    except FaultError as exc:
        print(f"otel-taskmaster simulate: {exc}", file=sys.stderr)
        return 2
    if args.time_scale < 0:
        print("otel-taskmaster simulate: --time-scale must be >= 0", file=sys.stderr)
        return 2
    try:
        server = make_server(
            args.host,
            args.port,
            faults=faults,
            seed=args.seed,
            models=tuple(args.models or DEFAULT_MODELS),
            time_scale=0.0 if args.fast else args.time_scale,
            replay_dir=args.replay,
            verbose=args.verbose,
        )
    except (OSError, RuntimeError) as exc:
        print(f"otel-taskmaster simulate: {exc}", file=sys.stderr)
        return 1
    mode = f"replaying {args.replay}" if args.replay else "simulating Ollama"
    active = ", ".join(f"{k}={v}" for k, v in faults.active().items()) or "none"
    print(f"otel-taskmaster simulate: {mode} on {server.url} (faults: {active})", flush=True)
    if threading.current_thread() is threading.main_thread():  # signals only go there
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
