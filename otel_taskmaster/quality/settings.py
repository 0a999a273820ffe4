"""Scoring bands, weights and check penalties, with the seed design's values as defaults.

A TOML file (``TASKMASTER_QUALITY_CONFIG``) overrides any subset; missing keys keep the
defaults. ``default_quality.toml`` next to this module spells out every default.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = [
    "CheckPenalties",
    "CoherenceBands",
    "FormatBands",
    "LatencyBands",
    "LengthBands",
    "QualityConfig",
    "QualityConfigError",
    "Weights",
    "load_quality_config",
]

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_quality.toml")


class QualityConfigError(ValueError):
    """A quality config file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class LengthBands:
    """Answer length in characters -> score (the seed's bands, edges inclusive)."""

    good_min: float = 50
    good_max: float = 500
    ok_min: float = 20
    ok_max: float = 1000
    good: float = 1.0
    ok: float = 0.7
    poor: float = 0.3


@dataclass(frozen=True)
class LatencyBands:
    """Call duration in seconds -> score: the first ``limits`` entry above it picks the score.

    The seed's 500 / 1000 / 2000 ms, in seconds.
    """

    limits: tuple[float, ...] = (0.5, 1.0, 2.0)
    scores: tuple[float, ...] = (1.0, 0.8, 0.6)
    slow: float = 0.3


@dataclass(frozen=True)
class FormatBands:
    """At least ``min_markers`` structure markers -> ``structured``, else ``plain``."""

    min_markers: float = 1
    structured: float = 1.0
    plain: float = 0.5


@dataclass(frozen=True)
class CoherenceBands:
    """Repetition -> coherence, from length-independent signals.

    The n-gram part is ``1 - repetition_slope * (ngram_repetition - repetition_allowance)``
    (the seed's slope of 1.5); the compression part rises linearly from 0 at
    ``compression_floor`` to 1 at ``compression_ok`` and is used only on answers of at
    least ``compression_min_chars`` (short texts do not compress whatever they say).
    Coherence is the lower of the two, clamped to [0, 1].
    """

    repetition_allowance: float = 0.1
    repetition_slope: float = 1.5
    compression_min_chars: float = 256
    compression_floor: float = 0.1
    compression_ok: float = 0.25


@dataclass(frozen=True)
class Weights:
    """Weights of the dimensions in ``overall_quality`` (the seed: a plain mean)."""

    length_score: float = 1.0
    latency_score: float = 1.0
    format_score: float = 1.0
    coherence_score: float = 1.0


@dataclass(frozen=True)
class CheckPenalties:
    """Subtracted from ``overall_quality`` when a check fails (result floored at 0)."""

    refusal: float = 0.5
    truncated: float = 0.3
    empty: float = 1.0


@dataclass(frozen=True)
class QualityConfig:
    """Everything the scorer and the quality processor are told.

    ``pass_threshold`` labels a score ``pass`` or ``fail`` (the seed alerts below 0.7);
    ``ewma_alpha`` is the weight of the newest score in the ``taskmaster_quality_score``
    gauge (0.1 averages roughly the last 20 answers).
    """

    pass_threshold: float = 0.7
    ewma_alpha: float = 0.1
    length: LengthBands = field(default_factory=LengthBands)
    latency: LatencyBands = field(default_factory=LatencyBands)
    format: FormatBands = field(default_factory=FormatBands)
    coherence: CoherenceBands = field(default_factory=CoherenceBands)
    weights: Weights = field(default_factory=Weights)
    penalties: CheckPenalties = field(default_factory=CheckPenalties)

    @classmethod
    def from_toml(cls, path: str | Path) -> QualityConfig:
        """Loads ``path``; missing keys keep the defaults, bad ones raise QualityConfigError."""
        path = Path(path)
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise QualityConfigError(f"{path}: cannot read quality config: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise QualityConfigError(f"{path}: not valid TOML: {exc}") from exc
        return cls.from_mapping(data, source=str(path))

    @classmethod
    def load(cls, path: str | Path) -> QualityConfig:
        """Same as :meth:`from_toml`."""
        return cls.from_toml(path)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str = "<mapping>") -> QualityConfig:
        """Builds a config from parsed TOML; ``source`` names the file in error messages."""
        config = cls()
        sections = {f.name: f for f in fields(cls) if f.name not in _TOP_LEVEL}
        top: dict[str, Any] = {}
        nested: dict[str, Any] = {}
        for key, value in data.items():
            if key in _TOP_LEVEL:
                top[key] = _number(value, source, key)
            elif key in sections:
                if not isinstance(value, dict):
                    raise QualityConfigError(f"{source}: [{key}] must be a table")
                nested[key] = _section(getattr(config, key), value, source, key)
            else:
                raise QualityConfigError(f"{source}: unknown key {key!r}")
        config = replace(config, **top, **nested)
        _validate(config, source)
        return config


_TOP_LEVEL = ("pass_threshold", "ewma_alpha")


def load_quality_config(path: str | Path | None) -> QualityConfig:
    """The config in ``path``, or the defaults when ``path`` is None or empty."""
    return QualityConfig.from_toml(path) if path else QualityConfig()


def _section(current: Any, table: dict[str, Any], source: str, name: str) -> Any:
    known = {f.name: f for f in fields(current)}
    updates: dict[str, Any] = {}
    for key, value in table.items():
        where = f"[{name}] {key}"
        if key not in known:
            raise QualityConfigError(f"{source}: unknown key {where}")
        if isinstance(getattr(current, key), tuple):
            if not isinstance(value, list):
                raise QualityConfigError(f"{source}: {where} must be a list of numbers")
            updates[key] = tuple(_number(item, source, where) for item in value)
        else:
            updates[key] = _number(value, source, where)
    return replace(current, **updates)


def _number(value: object, source: str, where: str) -> float:
    # bool is an int subclass; "true" as a band edge is a typo, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise QualityConfigError(f"{source}: {where} must be a finite number, got {value!r}")
    return float(value)


def _validate(config: QualityConfig, source: str) -> None:
    def fail(where: str, why: str) -> None:
        raise QualityConfigError(f"{source}: {where} {why}")

    unit_scores = {
        "pass_threshold": config.pass_threshold,
        "[length] good": config.length.good,
        "[length] ok": config.length.ok,
        "[length] poor": config.length.poor,
        "[latency] slow": config.latency.slow,
        "[format] structured": config.format.structured,
        "[format] plain": config.format.plain,
    }
    unit_scores.update({f"[latency] scores[{i}]": s for i, s in enumerate(config.latency.scores)})
    for where, value in unit_scores.items():
        if not 0.0 <= value <= 1.0:
            fail(where, f"must be within [0, 1], got {value}")
    if not 0.0 < config.ewma_alpha <= 1.0:
        fail("ewma_alpha", f"must be within (0, 1], got {config.ewma_alpha}")
    length = config.length
    if not length.ok_min <= length.good_min <= length.good_max <= length.ok_max:
        fail("[length]", "needs ok_min <= good_min <= good_max <= ok_max")
    latency = config.latency
    if len(latency.limits) != len(latency.scores):
        fail("[latency] scores", "must have one entry per limit")
    if list(latency.limits) != sorted(latency.limits):
        fail("[latency] limits", "must be ascending")
    coherence = config.coherence
    if coherence.compression_ok <= coherence.compression_floor:
        fail("[coherence] compression_ok", "must be above compression_floor")
    if coherence.repetition_slope < 0:
        fail("[coherence] repetition_slope", "must not be negative")
    for f in fields(config.weights):
        if getattr(config.weights, f.name) < 0:
            fail(f"[weights] {f.name}", "must not be negative")
    if sum(getattr(config.weights, f.name) for f in fields(config.weights)) <= 0:
        fail("[weights]", "need at least one positive weight")
    for f in fields(config.penalties):
        if getattr(config.penalties, f.name) < 0:
            fail(f"[penalties] {f.name}", "must not be negative")
