"""Baselines: what "normal" looks like per metric (and optionally per model).

A baseline file is JSON::

    {"version": 1,
     "entries": [
       {"metric": "overall_quality", "model": "*", "kind": "gaussian",
        "mean": 0.89, "std": 0.05, "n": 5000},
       {"metric": "latency_seconds", "model": "llama3.2", "kind": "lognormal",
        "mean": 0.18, "std": 0.6, "tail_rate": 0.011, "n": 5000},
       {"metric": "refusal", "model": "*", "kind": "bernoulli", "rate": 0.05, "n": 5000}]}

``kind`` is ``gaussian`` (``mean``/``std`` of the value), ``lognormal`` (``mean``/``std`` of
its natural logarithm, optional ``tail_rate``: share of values above ``mean + 2.326 std``) or
``bernoulli`` (``rate`` of yes). ``model`` ``"*"`` applies to every model without its own entry.
A missing ``mean``, ``std`` or ``rate`` (``null``) is estimated from the first observations the
detector sees (self-starting, see :class:`~otel_taskmaster.drift.detector_set.DetectorSet`).
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from otel_taskmaster.drift.tail_cusum import DEFAULT_TAIL_Z

GAUSSIAN = "gaussian"
LOGNORMAL = "lognormal"
BERNOULLI = "bernoulli"
KINDS = (GAUSSIAN, LOGNORMAL, BERNOULLI)
ANY_MODEL = "*"
FORMAT_VERSION = 1

# The seed design's baseline means; their spread is estimated on line (self-starting).
SEED_MEANS: Mapping[str, float] = {
    "latency_score": 0.85,
    "length_score": 0.90,
    "format_score": 0.88,
    "coherence_score": 0.95,
    "overall_quality": 0.89,
}
# Kinds for the metrics the quality processor reports beside the scores; other names are
# gaussian unless told otherwise.
DEFAULT_KINDS: Mapping[str, str] = {
    "latency_seconds": LOGNORMAL,
    "refusal": BERNOULLI,
    "truncated": BERNOULLI,
    "empty": BERNOULLI,
}


class BaselineError(ValueError):
    """A baseline file or entry that cannot be used; the message names the file and field."""


@dataclass(frozen=True)
class BaselineEntry:
    """The in-control description of one metric (for one model, or ``"*"`` for any)."""

    metric: str
    kind: str = GAUSSIAN
    model: str = ANY_MODEL
    mean: float | None = None
    std: float | None = None
    rate: float | None = None
    tail_rate: float | None = None
    n: int = 0

    @property
    def self_starting(self) -> bool:
        """True if part of the description must be estimated from the live stream."""
        if self.kind == BERNOULLI:
            return self.rate is None
        return self.mean is None or self.std is None


class Baseline:
    """Baseline entries keyed by (metric, model); lookups fall back to model ``"*"``."""

    def __init__(self, entries: Iterable[BaselineEntry] = ()) -> None:
        self._entries: dict[tuple[str, str], BaselineEntry] = {}
        for entry in entries:
            self._entries[(entry.metric, entry.model)] = entry

    def __iter__(self) -> Iterator[BaselineEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Baseline) and self._entries == other._entries

    def __repr__(self) -> str:
        return f"Baseline({list(self._entries.values())!r})"

    @property
    def metrics(self) -> frozenset[str]:
        return frozenset(metric for metric, _ in self._entries)

    def entry(self, metric: str, model: str = ANY_MODEL) -> BaselineEntry | None:
        """The entry for ``metric`` on ``model``, else its ``"*"`` entry, else None."""
        found = self._entries.get((metric, model))
        if found is None and model != ANY_MODEL:
            found = self._entries.get((metric, ANY_MODEL))
        return found

    @classmethod
    def default(cls) -> Baseline:
        """The seed's means for the five scores, self-starting latency and yes/no checks."""
        entries = [
            BaselineEntry(metric, GAUSSIAN, mean=mean) for metric, mean in SEED_MEANS.items()
        ]
        entries += [BaselineEntry(metric, kind) for metric, kind in DEFAULT_KINDS.items()]
        return cls(entries)

    @classmethod
    def from_seed(cls, means: Mapping[str, Any]) -> Baseline:
        """From the seed's ``{metric: mean}`` or ``{metric: {"mean": .., "std": ..}}``."""
        entries = []
        for metric, spec in means.items():
            if isinstance(spec, Mapping):
                raw = {"metric": metric, "kind": spec.get("kind", GAUSSIAN), **spec}
            else:
                raw = {"metric": metric, "kind": GAUSSIAN, "mean": spec}
            entries.append(_parse_entry(raw, f"baseline_metrics[{metric!r}]"))
        return cls(entries)

    @classmethod
    def load(cls, path: str | Path) -> Baseline:
        """Reads a baseline file; raises :class:`BaselineError` naming the file and field."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise BaselineError(f"{path}: cannot read baseline file: {exc.strerror}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BaselineError(f"{path}: not valid JSON: {exc}") from exc
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<baseline>") -> Baseline:
        if not isinstance(data, dict):
            raise BaselineError(f"{source}: top level must be a JSON object")
        version = data.get("version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise BaselineError(f"{source}: version: unsupported {version!r} (want 1)")
        raw_entries = data.get("entries")
        if not isinstance(raw_entries, list):
            raise BaselineError(f"{source}: entries: must be a list")
        entries = [
            _parse_entry(raw, f"{source}: entries[{i}]") for i, raw in enumerate(raw_entries)
        ]
        return cls(entries)

    def to_dict(self) -> dict[str, Any]:
        entries = []
        for entry in self:
            item = {key: value for key, value in asdict(entry).items() if value is not None}
            entries.append(item)
        return {"version": FORMAT_VERSION, "entries": entries}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")


def fit(
    observations: Iterable[tuple[str, str, float]],
    kinds: Mapping[str, str] | None = None,
    per_model: bool = False,
    min_n: int = 30,
) -> Baseline:
    """Fits a baseline from ``(metric, model, value)`` triples of a reference period.

    Every metric gets a ``"*"`` entry pooled over models; with ``per_model`` each model with at
    least ``min_n`` observations also gets its own. ``kinds`` overrides ``DEFAULT_KINDS``.
    """
    kind_of = {**DEFAULT_KINDS, **(kinds or {})}
    for metric, kind in kind_of.items():
        if kind not in KINDS:
            raise BaselineError(f"kinds[{metric!r}]: unknown kind {kind!r}")
    pooled: dict[str, array[float]] = {}
    by_model: dict[tuple[str, str], array[float]] = {}
    for metric, model, value in observations:
        value = float(value)
        if not math.isfinite(value):
            continue
        pooled.setdefault(metric, array("d")).append(value)
        if per_model:
            by_model.setdefault((metric, model), array("d")).append(value)
    entries = [
        _fit_one(metric, ANY_MODEL, kind_of.get(metric, GAUSSIAN), v)
        for metric, v in pooled.items()
    ]
    for (metric, model), values in by_model.items():
        if len(values) >= min_n:
            entries.append(_fit_one(metric, model, kind_of.get(metric, GAUSSIAN), values))
    return Baseline(entries)


def _fit_one(metric: str, model: str, kind: str, values: array[float]) -> BaselineEntry:
    n = len(values)
    if kind == BERNOULLI:
        return BaselineEntry(metric, kind, model, rate=sum(1 for v in values if v >= 0.5) / n, n=n)
    if kind == LOGNORMAL:
        # Latency of exactly 0 is a clock artefact; keep it finite.
        values = array("d", (math.log(v if v > 1e-9 else 1e-9) for v in values))
    mean = math.fsum(values) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    tail_rate = None
    if kind == LOGNORMAL and std:
        cut = mean + DEFAULT_TAIL_Z * std
        tail_rate = sum(1 for v in values if v > cut) / n
    return BaselineEntry(metric, kind, model, mean=mean, std=std, tail_rate=tail_rate, n=n)


def _parse_entry(raw: Any, where: str) -> BaselineEntry:
    if not isinstance(raw, Mapping):
        raise BaselineError(f"{where}: must be a JSON object")
    unknown = set(raw) - {"metric", "model", "kind", "mean", "std", "rate", "tail_rate", "n"}
    if unknown:
        raise BaselineError(f"{where}.{sorted(unknown)[0]}: unknown field")
    metric = raw.get("metric")
    if not isinstance(metric, str) or not metric:
        raise BaselineError(f"{where}.metric: must be a non-empty string")
    model = raw.get("model", ANY_MODEL)
    if not isinstance(model, str) or not model:
        raise BaselineError(f"{where}.model: must be a non-empty string")
    kind = raw.get("kind", GAUSSIAN)
    if kind not in KINDS:
        raise BaselineError(f"{where}.kind: must be one of {', '.join(KINDS)}, got {kind!r}")
    mean = _number(raw, "mean", where)
    std = _number(raw, "std", where)
    if std is not None and std < 0:
        raise BaselineError(f"{where}.std: must be >= 0, got {std}")
    rate = _number(raw, "rate", where)
    if rate is not None and not 0.0 <= rate <= 1.0:
        raise BaselineError(f"{where}.rate: must be in [0, 1], got {rate}")
    tail_rate = _number(raw, "tail_rate", where)
    if tail_rate is not None and not 0.0 <= tail_rate < 1.0:
        raise BaselineError(f"{where}.tail_rate: must be in [0, 1), got {tail_rate}")
    n = raw.get("n", 0)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise BaselineError(f"{where}.n: must be a non-negative integer, got {n!r}")
    if kind == BERNOULLI and (mean is not None or std is not None):
        raise BaselineError(f"{where}.rate: a bernoulli entry takes rate, not mean/std")
    if kind != BERNOULLI and rate is not None:
        raise BaselineError(f"{where}.rate: only a bernoulli entry takes rate")
    return BaselineEntry(metric, kind, model, mean, std, rate, tail_rate, n)


def _number(raw: Mapping[str, Any], name: str, where: str) -> float | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BaselineError(f"{where}.{name}: must be a finite number or null, got {value!r}")
    return float(value)
