"""Response features -> quality scores: pure, no telemetry, no text needed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from otel_taskmaster import semconv
from otel_taskmaster.quality.features import ResponseFeatures
from otel_taskmaster.quality.settings import QualityConfig

__all__ = ["CHECKS", "DIMENSIONS", "OVERALL", "QualityScorer", "Scores"]

DIMENSIONS: tuple[str, ...] = ("length_score", "latency_score", "format_score", "coherence_score")
OVERALL = "overall_quality"
CHECKS: tuple[str, ...] = ("refusal", "truncated", "empty")
PASS = "pass"
FAIL = "fail"


class Scores(NamedTuple):
    """``dimensions``: the four seed dimensions plus ``overall_quality`` (0..1).

    ``checks``: yes/no findings (``refusal``, ``truncated``, ``empty``); True means found.
    """

    dimensions: dict[str, float]
    checks: dict[str, bool]


class QualityScorer:
    """Scores an answer on the seed design's dimensions, plus checks that pull overall down.

    Parameters
    ----------
    config:
        Bands, weights and penalties; ``None`` means the seed's values
        (see ``default_quality.toml``).

    Coherence comes from word-trigram repetition and compression, which stay put as an
    honest answer grows; the seed's unique-word ratio falls with length alone.

    Examples
    --------
    >>> scorer = QualityScorer()
    >>> scores = scorer.score_response("How do I make tea?", "Steps:\\n- boil water\\n"
    ...                                "- steep the leaves for three minutes", 420.0)
    >>> scores
    {'length_score': 1.0, 'latency_score': 1.0, 'format_score': 1.0, \
'coherence_score': 1.0, 'overall_quality': 1.0}
    >>> scorer.score_response("Hi", "", 2500.0)["overall_quality"]  # empty: penalty 1.0
    0.0
    """

    def __init__(self, config: QualityConfig | None = None) -> None:
        self.config = config if config is not None else QualityConfig()

    def score_features(
        self, features: Mapping[str, object], latency_s: float, done_reason: str | None
    ) -> Scores:
        """Scores ``FEATURE_*`` values (e.g. a span's attributes) and the call's duration."""
        cfg = self.config
        chars = _number(features, semconv.FEATURE_CHARS, 0.0)
        words = _number(features, semconv.FEATURE_WORDS, chars)
        tool_calls = _number(features, semconv.OLLAMA_TOOL_CALL_COUNT, 0.0)
        dims = {
            "length_score": self._length(chars),
            "latency_score": self._latency(latency_s),
            "format_score": (
                cfg.format.structured
                if _number(features, semconv.FEATURE_STRUCTURE_MARKERS, 0.0)
                >= cfg.format.min_markers
                else cfg.format.plain
            ),
            "coherence_score": self._coherence(features, chars),
        }
        checks = {
            "refusal": features.get(semconv.FEATURE_REFUSAL) is True,
            "truncated": done_reason == "length",
            # A tool-call-only answer has no text on purpose.
            "empty": (chars == 0 or words == 0) and tool_calls == 0,
        }
        weights = cfg.weights
        total_weight = (
            weights.length_score
            + weights.latency_score
            + weights.format_score
            + weights.coherence_score
        )
        overall = (
            weights.length_score * dims["length_score"]
            + weights.latency_score * dims["latency_score"]
            + weights.format_score * dims["format_score"]
            + weights.coherence_score * dims["coherence_score"]
        ) / total_weight
        penalties = cfg.penalties
        overall -= (
            penalties.refusal * checks["refusal"]
            + penalties.truncated * checks["truncated"]
            + penalties.empty * checks["empty"]
        )
        dims[OVERALL] = max(0.0, overall)
        return Scores(dims, checks)

    def score_response(self, prompt: str, response: str, latency_ms: float) -> dict[str, float]:
        """The seed's interface: scores one answer's text and its latency in milliseconds."""
        features = ResponseFeatures()
        features.add(response)
        return self.score_features(features.attributes(None), latency_ms / 1000.0, None).dimensions

    def label(self, value: float) -> str:
        """``pass`` or ``fail`` against the configured threshold."""
        return PASS if value >= self.config.pass_threshold else FAIL

    def _length(self, chars: float) -> float:
        band = self.config.length
        if band.good_min <= chars <= band.good_max:
            return band.good
        if band.ok_min <= chars <= band.ok_max:
            return band.ok
        return band.poor

    def _latency(self, latency_s: float) -> float:
        band = self.config.latency
        for limit, score in zip(band.limits, band.scores, strict=True):
            if latency_s < limit:
                return score
        return band.slow

    def _coherence(self, features: Mapping[str, object], chars: float) -> float:
        band = self.config.coherence
        repetition = _number(features, semconv.FEATURE_NGRAM_REPETITION, 0.0)
        score = 1.0 - band.repetition_slope * max(0.0, repetition - band.repetition_allowance)
        if chars >= band.compression_min_chars:
            ratio = _number(features, semconv.FEATURE_COMPRESSION_RATIO, 1.0)
            span = band.compression_ok - band.compression_floor
            score = min(score, (ratio - band.compression_floor) / span)
        return min(1.0, max(0.0, score))


def _number(features: Mapping[str, object], key: str, default: float) -> float:
    value = features.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default
