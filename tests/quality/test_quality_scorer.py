"""QualityScorer: the seed's bands exact at their edges, checks, penalties, seed interface."""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_taskmaster import semconv as sc
from otel_taskmaster.quality import QualityConfig, QualityScorer, ResponseFeatures
from otel_taskmaster.quality.settings import CheckPenalties, Weights

PLAIN = {
    sc.FEATURE_CHARS: 100,
    sc.FEATURE_WORDS: 20,
    sc.FEATURE_NGRAM_REPETITION: 0.0,
    sc.FEATURE_COMPRESSION_RATIO: 0.6,
    sc.FEATURE_STRUCTURE_MARKERS: 2,
    sc.FEATURE_REFUSAL: False,
}


def score(latency_s: float = 0.1, done_reason: str | None = "stop", **changes: object):
    return QualityScorer().score_features({**PLAIN, **changes}, latency_s, done_reason)


@pytest.mark.parametrize(
    ("chars", "expected"),
    [
        (0, 0.3),
        (19, 0.3),
        (20, 0.7),
        (49, 0.7),
        (50, 1.0),
        (500, 1.0),
        (501, 0.7),
        (1000, 0.7),
        (1001, 0.3),
    ],
)
def test_length_score_uses_the_seed_bands_with_inclusive_edges(chars: int, expected: float) -> None:
    changes = {sc.FEATURE_CHARS: chars, sc.FEATURE_WORDS: max(1, chars // 5)}
    assert score(**changes).dimensions["length_score"] == expected


@pytest.mark.parametrize(
    ("latency_s", "expected"),
    [(0.0, 1.0), (0.499, 1.0), (0.5, 0.8), (0.999, 0.8), (1.0, 0.6), (1.999, 0.6), (2.0, 0.3)],
)
def test_latency_score_uses_the_seed_bands_below_each_limit(
    latency_s: float, expected: float
) -> None:
    assert score(latency_s).dimensions["latency_score"] == expected


def test_format_score_needs_one_structure_marker() -> None:
    assert score(**{sc.FEATURE_STRUCTURE_MARKERS: 1}).dimensions["format_score"] == 1.0
    assert score(**{sc.FEATURE_STRUCTURE_MARKERS: 0}).dimensions["format_score"] == 0.5


@pytest.mark.parametrize(
    ("repetition", "expected"),
    [(0.0, 1.0), (0.1, 1.0), (0.3, 1.0 - 1.5 * 0.2), (0.5, 1.0 - 1.5 * 0.4), (0.9, 0.0)],
)
def test_coherence_falls_with_trigram_repetition_above_the_allowance(
    repetition: float, expected: float
) -> None:
    coherence = score(**{sc.FEATURE_NGRAM_REPETITION: repetition}).dimensions["coherence_score"]
    assert coherence == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("chars", "ratio", "expected"),
    [
        (256, 0.25, 1.0),
        (256, 0.175, 0.5),
        (256, 0.1, 0.0),
        (256, 0.05, 0.0),
        (255, 0.05, 1.0),  # short answers skip the compression signal
    ],
)
def test_coherence_uses_compression_only_on_long_enough_answers(
    chars: int, ratio: float, expected: float
) -> None:
    changes = {sc.FEATURE_CHARS: chars, sc.FEATURE_COMPRESSION_RATIO: ratio}
    coherence = score(**changes).dimensions["coherence_score"]
    assert coherence == pytest.approx(expected, abs=1e-12)


def test_overall_is_the_plain_mean_when_no_check_fails() -> None:
    scores = score(0.7, **{sc.FEATURE_STRUCTURE_MARKERS: 0})

    assert scores.checks == {"refusal": False, "truncated": False, "empty": False}
    assert scores.dimensions == {
        "length_score": 1.0,
        "latency_score": 0.8,
        "format_score": 0.5,
        "coherence_score": 1.0,
        "overall_quality": (1.0 + 0.8 + 0.5 + 1.0) / 4,
    }


def test_each_failed_check_subtracts_its_penalty() -> None:
    refusal = score(**{sc.FEATURE_REFUSAL: True})
    truncated = score(done_reason="length")
    both = score(done_reason="length", **{sc.FEATURE_REFUSAL: True})

    assert refusal.checks["refusal"] and not refusal.checks["truncated"]
    assert refusal.dimensions["overall_quality"] == pytest.approx(1.0 - 0.5)
    assert truncated.checks["truncated"]
    assert truncated.dimensions["overall_quality"] == pytest.approx(1.0 - 0.3)
    assert both.dimensions["overall_quality"] == pytest.approx(1.0 - 0.8)


def test_empty_answer_scores_zero_overall() -> None:
    scores = score(**{sc.FEATURE_CHARS: 0, sc.FEATURE_WORDS: 0})
    assert scores.checks["empty"]
    assert scores.dimensions["overall_quality"] == 0.0


def test_whitespace_only_answer_is_empty() -> None:
    assert score(**{sc.FEATURE_CHARS: 3, sc.FEATURE_WORDS: 0}).checks["empty"]


def test_tool_call_only_answer_is_not_empty() -> None:
    changes = {sc.FEATURE_CHARS: 0, sc.FEATURE_WORDS: 0, sc.OLLAMA_TOOL_CALL_COUNT: 1}
    assert not score(**changes).checks["empty"]


def test_weights_and_penalties_come_from_the_config() -> None:
    config = QualityConfig(
        weights=Weights(length_score=0.0, latency_score=3.0, format_score=0.0, coherence_score=1.0),
        penalties=CheckPenalties(refusal=0.05, truncated=0.0, empty=1.0),
    )
    scores = QualityScorer(config).score_features(
        {**PLAIN, sc.FEATURE_REFUSAL: True}, 1.5, "length"
    )
    assert scores.dimensions["overall_quality"] == pytest.approx((3 * 0.6 + 1.0) / 4 - 0.05)


def test_missing_or_non_numeric_features_fall_back_instead_of_raising() -> None:
    scores = QualityScorer().score_features(
        {sc.FEATURE_CHARS: 80, sc.FEATURE_NGRAM_REPETITION: "high", sc.FEATURE_REFUSAL: "yes"},
        0.2,
        None,
    )
    assert scores.dimensions["coherence_score"] == 1.0
    assert scores.checks == {"refusal": False, "truncated": False, "empty": False}


def test_seed_interface_scores_text_and_milliseconds() -> None:
    scorer = QualityScorer()
    answer = "Brew tea: boil water, pour it over the leaves and wait three minutes."

    assert scorer.score_response("How do I brew tea?", answer, 750.0) == {
        "length_score": 1.0,
        "latency_score": 0.8,
        "format_score": 1.0,
        "coherence_score": 1.0,
        "overall_quality": (1.0 + 0.8 + 1.0 + 1.0) / 4,
    }


def test_seed_interface_flags_a_repetition_loop() -> None:
    loop = "The answer is the answer. " * 30
    scores = QualityScorer().score_response("?", loop, 100.0)
    assert scores["coherence_score"] == 0.0


def zipf_text(n_words: int, seed: int = 12345) -> str:
    """Words drawn from a Zipf-weighted vocabulary: words recur, phrases do not."""
    rng = random.Random(seed)
    vocab = [
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9)))
        for _ in range(800)
    ]
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    return " ".join(rng.choices(vocab, weights, k=n_words))


def seed_coherence(text: str) -> float:
    words = text.split()
    return min(1.0, len(set(words)) / len(words) * 1.5)


def test_long_honest_answer_keeps_full_coherence_unlike_the_seed_rule() -> None:
    scorer = QualityScorer()
    short, long = zipf_text(100), zipf_text(3000)

    for answer in (short, long):
        assert scorer.score_response("?", answer, 100.0)["coherence_score"] == 1.0
    # The seed's unique-word rule falls with length alone.
    assert seed_coherence(short) > 0.85
    assert seed_coherence(long) < 0.3


def test_label_is_pass_at_the_threshold_and_fail_below() -> None:
    scorer = QualityScorer()
    assert scorer.label(0.7) == "pass"
    assert scorer.label(0.6999) == "fail"


def test_score_features_reads_a_response_features_result_directly() -> None:
    features = ResponseFeatures()
    features.add("I'm sorry, but I can't help with that.")
    scores = QualityScorer().score_features(features.attributes("stop"), 0.2, "stop")
    assert scores.checks["refusal"]


@settings(max_examples=60, deadline=None)
@given(n_words=st.integers(min_value=1, max_value=4000), seed=st.integers(0, 2**32))
def test_honest_text_keeps_full_coherence_at_any_length(n_words: int, seed: int) -> None:
    answer = zipf_text(n_words, seed)
    assert QualityScorer().score_response("?", answer, 100.0)["coherence_score"] == 1.0
