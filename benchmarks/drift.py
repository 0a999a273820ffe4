"""Drift detection against the seed's rule, on streams with known change points.

    .venv/bin/python benchmarks/drift.py --seed 12345

Every stream starts with ``burn_in`` in-control observations (the seed's window fills, a
self-starting baseline warms up), then ``pre`` more in-control ones; a drift stream changes at
``burn_in + pre`` and runs ``post`` observations more. Stationary streams count alarms over
10,000 observations after the burn-in. The delay is the number of changed observations up to
and including the first alarm after the change; a replicate whose detector is already at that
level when the change comes (a latched false alarm) is left out, and n says how many count.
An alarm is the level rising (warning = level >= 1, critical = level 2); ours latches and
re-arms (see drift/base.py), the seed's rule re-evaluates the mean of the last 100 at every
observation, like the seed's middleware.

Baselines are fitted by ``otel_taskmaster.drift.fit`` from an in-control reference sample of
``reference`` observations per replicate (the seed's rule gets the fitted mean), except rows
marked "mean only" / "self-starting", where our detector gets only the mean (or no rate) and
estimates the rest on line (a rare rate waits for 50 events, past the burn-in; false alarms
are then counted per 10,000 observations it watched).

Streams: score-like N(0.85, 0.15^2) (not clipped); latency lognormal, median 1.2 s, sigma of
ln 0.6; refusal Bernoulli(0.05). Prints a Markdown table and the cost per observation.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from opentelemetry.sdk.metrics import MeterProvider

from otel_taskmaster.drift import (
    Baseline,
    BaselineEntry,
    DetectorSet,
    DriftDetector,
    DriftMonitor,
    fit,
)

SCORE_MU, SCORE_SIGMA = 0.85, 0.15
LAT_MU, LAT_SIGMA = math.log(1.2), 0.6
REFUSAL_RATE = 0.05
STATIONARY_LEN = 10_000
EXCLUDED = -1

Gen = Callable[[random.Random], float]


def _score(shift: float = 0.0, var_ratio: float = 1.0) -> Gen:
    mu, sigma = SCORE_MU - shift * SCORE_SIGMA, SCORE_SIGMA * math.sqrt(var_ratio)
    return lambda r: r.gauss(mu, sigma)


def _latency(factor: float = 1.0, tail_share: float = 0.0, tail_factor: float = 5.0) -> Gen:
    def gen(r: random.Random) -> float:
        x = r.lognormvariate(LAT_MU, LAT_SIGMA) * factor
        if tail_share and r.random() < tail_share:
            x *= tail_factor
        return x

    return gen


def _refusal(rate: float) -> Gen:
    return lambda r: 1.0 if r.random() < rate else 0.0


@dataclass(frozen=True)
class Stream:
    name: str
    metric: str
    kind: str
    before: Gen
    after: Gen | None = None  # None: stationary
    mean_only: bool = False


STREAMS = [
    Stream("score, stationary", "overall_quality", "gaussian", _score()),
    Stream("score, stationary (mean only)", "overall_quality", "gaussian", _score(), None, True),
    Stream("latency, stationary (mean only)", "latency_seconds", "lognormal", _latency(), None,
           True),
    Stream("score, mean -0.25 sigma", "overall_quality", "gaussian", _score(), _score(0.25)),
    Stream("score, mean -0.5 sigma", "overall_quality", "gaussian", _score(), _score(0.5)),
    Stream("score, mean -1 sigma", "overall_quality", "gaussian", _score(), _score(1.0)),
    Stream("score, mean -2 sigma", "overall_quality", "gaussian", _score(), _score(2.0)),
    Stream("score, mean -1 sigma (mean only)", "overall_quality", "gaussian", _score(),
           _score(1.0), True),
    Stream("score, variance x2", "overall_quality", "gaussian", _score(), _score(var_ratio=2.0)),
    Stream("latency, stationary", "latency_seconds", "lognormal", _latency()),
    Stream("latency, x1.3", "latency_seconds", "lognormal", _latency(), _latency(1.3)),
    Stream("latency, 5% of requests x5", "latency_seconds", "lognormal", _latency(),
           _latency(tail_share=0.05)),
    Stream("refusal, stationary", "refusal", "bernoulli", _refusal(REFUSAL_RATE)),
    Stream("refusal, stationary (self-starting rate)", "refusal", "bernoulli",
           _refusal(REFUSAL_RATE), None, True),
    Stream("refusal, 5% -> 10%", "refusal", "bernoulli", _refusal(REFUSAL_RATE),
           _refusal(2 * REFUSAL_RATE)),
]  # fmt: skip


class SeedRule:
    """The seed's check, run after every observation: mean of the last 100 vs baseline."""

    def __init__(self, baseline: float, warning: float = 0.15, critical: float = 0.30) -> None:
        self.baseline, self.warning, self.critical = baseline, warning, critical
        self._window: deque[float] = deque(maxlen=100)
        self._sum = 0.0
        self.state = 0
        self.rose = 0

    def update(self, x: float) -> None:
        window = self._window
        if len(window) == window.maxlen:
            self._sum -= window[0]
        window.append(x)
        self._sum += x
        old = self.state
        deviation = abs(self._sum / len(window) - self.baseline) / abs(self.baseline)
        self.state = 2 if deviation >= self.critical else 1 if deviation >= self.warning else 0
        self.rose = self.state if self.state > old else 0


@dataclass
class Tally:
    alarms: list[int]  # false alarms: [warning-or-more, critical]
    delays: list[list[int | None]]  # per level: delay or None (missed)
    watched: int = 0  # stationary observations the detector could alarm on

    @classmethod
    def new(cls) -> Tally:
        return cls([0, 0], [[], []])


def _run(stream: Stream, rep: int, seed: int, args: argparse.Namespace) -> tuple[Tally, Tally]:
    rng = random.Random(f"{seed}/{stream.name}/{rep}")
    reference = [stream.before(rng) for _ in range(args.reference)]
    baseline = fit([(stream.metric, "m", v) for v in reference], kinds={stream.metric: stream.kind})
    fitted = baseline.entry(stream.metric)
    assert fitted is not None
    if stream.mean_only:  # the seed's way: a mean, no spread (for a rate: nothing at all)
        fitted = BaselineEntry(stream.metric, stream.kind, mean=fitted.mean)
    ours = DetectorSet(fitted, warmup=args.burn_in)
    seed_rule = SeedRule(math.fsum(reference) / len(reference))
    tallies = (Tally.new(), Tally.new())
    if stream.after is None:
        values = [stream.before(rng) for _ in range(args.burn_in + STATIONARY_LEN)]
        change = len(values) + 1
    else:
        values = [stream.before(rng) for _ in range(args.burn_in + args.pre)]
        change = len(values)
        values += [stream.after(rng) for _ in range(args.post)]
    first: list[list[int | None]] = [[None, None], [None, None]]
    at_change = (0, 0)
    for i, x in enumerate(values):
        if i == change:
            at_change = (ours.state, seed_rule.state)
        ours.update(x)
        seed_rule.update(x)
        if stream.after is None and i >= args.burn_in:
            tallies[0].watched += ours.armed
            tallies[1].watched += 1
        for d, rose in enumerate((ours.rose, seed_rule.rose)):
            if not rose or i < args.burn_in:
                continue
            for level in (0, 1):
                if rose < level + 1:
                    continue
                if i < change:
                    if stream.after is None:
                        tallies[d].alarms[level] += 1
                elif first[d][level] is None:
                    first[d][level] = i - change + 1
    if stream.after is not None:
        for d in (0, 1):
            for level in (0, 1):
                # Already alarmed (latched) when the change came: no rise to time, left out.
                excluded = at_change[d] >= level + 1
                tallies[d].delays[level].append(EXCLUDED if excluded else first[d][level])
    return tallies


def _fmt_delay(delays: list[int | None], within: int) -> tuple[str, str, str]:
    counted = [d for d in delays if d != EXCLUDED]
    if not counted:
        return "- (n=0)", "-", "-"
    found = [d for d in counted if d is not None]
    share = f"{len(found) / len(counted):.0%} (n={len(counted)})"
    share_within = f"{sum(1 for d in found if d <= within) / len(counted):.0%}"
    median = f"{statistics.median(found):.0f}" if found else "-"
    return share, share_within, median


def _cost(seed: int, repeats: int = 7, n: int = 50_000) -> dict[str, float]:
    """Median CPU microseconds per observation, per metric kind, and for the seed interface."""
    rng = random.Random(seed)
    cases = {
        "gaussian (mean + scale CUSUM)": (
            BaselineEntry("s", "gaussian", mean=0.85, std=0.15),
            [rng.gauss(0.85, 0.15) for _ in range(n)],
        ),
        "lognormal (log, mean + scale + tail)": (
            BaselineEntry("l", "lognormal", mean=LAT_MU, std=LAT_SIGMA),
            [rng.lognormvariate(LAT_MU, LAT_SIGMA) for _ in range(n)],
        ),
        "bernoulli (rate CUSUM)": (
            BaselineEntry("r", "bernoulli", rate=0.05),
            [1.0 if rng.random() < 0.05 else 0.0 for _ in range(n)],
        ),
    }
    out: dict[str, float] = {}
    for label, (entry, values) in cases.items():
        samples = []
        for _ in range(repeats):
            detectors = DetectorSet(entry)
            update = detectors.update
            start = time.process_time()
            for x in values:
                update(x)
            samples.append((time.process_time() - start) / n * 1e6)
        out[label] = statistics.median(samples)
    # The path the quality processor takes: DriftMonitor.observe on a real SDK meter.
    meter = MeterProvider().get_meter("benchmark")
    # Stationary streams still raise the odd alarm; keep their log records off the table.
    quiet = logging.getLogger("benchmarks.drift.quiet")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    baseline = Baseline([entry for entry, _ in cases.values()])
    for label, (entry, values) in cases.items():
        samples = []
        for _ in range(repeats):
            observe = DriftMonitor(meter, baseline, logger=quiet).observe
            metric = entry.metric
            start = time.process_time()
            for x in values:
                observe(metric, "llama3.2", x, None)
            samples.append((time.process_time() - start) / n * 1e6)
        out[f"DriftMonitor.observe, {label.split()[0]}"] = statistics.median(samples)
    legacy_values = cases["gaussian (mean + scale CUSUM)"][1]
    samples = []
    for _ in range(repeats):
        legacy = DriftDetector({"overall_quality": {"mean": 0.85, "std": 0.15}})
        record = legacy.record_metric
        start = time.process_time()
        for x in legacy_values:
            record("overall_quality", x)
        samples.append((time.process_time() - start) / n * 1e6)
    out["seed interface record_metric (gaussian)"] = statistics.median(samples)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--reps", type=int, default=200, help="replicates per drift stream")
    parser.add_argument("--stationary-reps", type=int, default=200, help="x 10,000 obs each")
    parser.add_argument("--reference", type=int, default=2000, help="obs to fit a baseline")
    parser.add_argument("--burn-in", type=int, default=500)
    parser.add_argument("--pre", type=int, default=500, help="in-control obs before a change")
    parser.add_argument("--post", type=int, default=2000, help="obs after a change")
    parser.add_argument("--within", type=int, default=300, help="'detected within' horizon")
    args = parser.parse_args(argv)
    wall0, cpu0 = time.perf_counter(), time.process_time()

    print(f"# Drift benchmark (seed {args.seed})\n")
    print(
        f"Drift streams: {args.reps} replicates, change after {args.burn_in + args.pre} obs, "
        f"{args.post} obs after it. Stationary: {args.stationary_reps} x {STATIONARY_LEN:,} obs."
        f" Baseline fitted from {args.reference} in-control obs.\n"
    )
    print(
        "| stream | detector | false alarms / 10k (warn+ / crit) | detected (crit) "
        f"| within {args.within} (crit) | median delay (crit) | detected (warn+) "
        "| median delay (warn+) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for stream in STREAMS:
        reps = args.reps if stream.after is not None else args.stationary_reps
        totals = (Tally.new(), Tally.new())
        for rep in range(reps):
            for total, one in zip(totals, _run(stream, rep, args.seed, args), strict=True):
                total.alarms = [a + b for a, b in zip(total.alarms, one.alarms, strict=True)]
                total.watched += one.watched
                for level in (0, 1):
                    total.delays[level] += one.delays[level]
        for label, total in zip(("ours", "seed 15%/30%"), totals, strict=True):
            if stream.after is None:
                per10k = [a / total.watched * STATIONARY_LEN for a in total.alarms]
                print(
                    f"| {stream.name} | {label} | {per10k[0]:.2f} / {per10k[1]:.2f} "
                    "| - | - | - | - | - |"
                )
            else:
                crit = _fmt_delay(total.delays[1], args.within)
                warn = _fmt_delay(total.delays[0], args.within)
                print(
                    f"| {stream.name} | {label} | - | {crit[0]} | {crit[1]} | {crit[2]} "
                    f"| {warn[0]} | {warn[2]} |"
                )
        sys.stdout.flush()

    print("\n## Cost per observation (CPU time, median of 7 x 50,000)\n")
    print("| path | us / obs |")
    print("|---|---|")
    for label, micros in _cost(args.seed).items():
        print(f"| {label} | {micros:.2f} |")
    print(
        f"\nRuntime: {time.perf_counter() - wall0:.0f} s wall, "
        f"{time.process_time() - cpu0:.0f} s CPU; Python {sys.version.split()[0]}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
