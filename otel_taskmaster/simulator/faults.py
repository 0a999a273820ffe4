"""Faults the simulator can inject, parsed from ``NAME[=VALUE]`` or a JSON object.

Probabilities are drawn from one seeded :class:`random.Random`, so a run with the same seed
and the same request order injects the same faults.

>>> faults = Faults.parse(["errors=0.25", "slow=1.5", "unloaded"])
>>> faults.as_dict()["errors"], faults.as_dict()["slow"], faults.as_dict()["unloaded"]
(0.25, 1.5, '*')
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

# name -> (kind, value when given without "=VALUE")
_SPEC: dict[str, tuple[str, Any]] = {
    "slow": ("seconds", 1.0),  # extra wait before the first byte of every model call
    "slow_chunk": ("seconds", 0.05),  # extra wait before every streamed chunk
    "errors": ("probability", 1.0),  # HTTP 500 {"error": ...} instead of an answer
    "stream_errors": ("probability", 1.0),  # stream ends with an {"error": ...} line
    "repetition": ("probability", 1.0),  # answer falls into a repetition loop
    "truncate": ("probability", 1.0),  # answer cut short, done_reason "length"
    "refusal": ("probability", 1.0),  # answer is a refusal
    "disconnect": ("probability", 1.0),  # connection closed mid-response
    "unloaded": ("models", "*"),  # "*" or comma-separated model names that are not loaded
    "chunks": ("count", 64),  # every answer is exactly this many tokens (0 = natural length)
}

FAULT_NAMES: tuple[str, ...] = tuple(_SPEC)


class FaultError(ValueError):
    """A fault name or value the simulator does not understand."""


@dataclass(frozen=True)
class Faults:
    """One snapshot of the switched-on faults; zero / empty means off."""

    slow: float = 0.0
    slow_chunk: float = 0.0
    errors: float = 0.0
    stream_errors: float = 0.0
    repetition: float = 0.0
    truncate: float = 0.0
    refusal: float = 0.0
    disconnect: float = 0.0
    unloaded: str = ""
    chunks: int = 0

    @classmethod
    def parse(cls, items: Iterable[str]) -> Faults:
        """Builds faults from command-line style ``NAME[=VALUE]`` items."""
        values: dict[str, Any] = {}
        for item in items:
            name, sep, raw = item.partition("=")
            values[name.strip()] = raw.strip() if sep else None
        return cls().updated(values)

    def updated(self, values: Mapping[str, Any]) -> Faults:
        """A copy with ``values`` applied; ``None`` / ``True`` mean the fault's default value."""
        changes: dict[str, Any] = {}
        for name, raw in values.items():
            if name not in _SPEC:
                raise FaultError(f"unknown fault {name!r}; known: {', '.join(FAULT_NAMES)}")
            changes[name] = _coerce(name, raw)
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def active(self) -> dict[str, Any]:
        """Only the faults that are switched on."""
        defaults = Faults()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(defaults, f.name)
        }

    def is_unloaded(self, model: str) -> bool:
        if not self.unloaded:
            return False
        if self.unloaded == "*":
            return True
        wanted = {_canonical(name) for name in self.unloaded.split(",") if name.strip()}
        return _canonical(model) in wanted


def _canonical(model: str) -> str:
    model = model.strip()
    return model if ":" in model else f"{model}:latest"


def _coerce(name: str, raw: Any) -> Any:
    kind, default = _SPEC[name]
    if raw is None or raw is True:
        return default
    if raw is False:
        return "" if kind == "models" else 0
    try:
        if kind == "models":
            return str(raw).strip()
        if kind == "count":
            value: float = int(raw)
        else:
            value = float(raw)
    except (TypeError, ValueError):
        raise FaultError(f"fault {name!r}: bad value {raw!r} (want {kind})") from None
    if value < 0 or (kind == "probability" and value > 1):
        raise FaultError(f"fault {name!r}: {raw!r} is out of range for a {kind}")
    return value


class FaultBox:
    """The live faults of a running server: swapped atomically, read without a lock."""

    def __init__(self, faults: Faults | None = None, seed: int = 0) -> None:
        self._faults = faults or Faults()
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._write_lock = threading.Lock()

    @property
    def current(self) -> Faults:
        return self._faults

    def update(self, values: Mapping[str, Any]) -> Faults:
        with self._write_lock:
            self._faults = self._faults.updated(values)
            return self._faults

    def clear(self) -> Faults:
        with self._write_lock:
            self._faults = Faults()
            return self._faults

    def roll(self, probability: float) -> bool:
        """True with ``probability``, from the seeded generator (no draw when 0 or 1)."""
        if probability <= 0.0:
            return False
        if probability >= 1.0:
            return True
        with self._rng_lock:
            return self._rng.random() < probability

    def fraction(self, low: float, high: float) -> float:
        with self._rng_lock:
            return self._rng.uniform(low, high)
