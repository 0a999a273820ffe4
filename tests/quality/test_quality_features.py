"""ResponseFeatures: exact values on known texts, streaming invariance, bounded memory."""

from __future__ import annotations

import itertools
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from otel_taskmaster import semconv as sc
from otel_taskmaster.quality import ResponseFeatures
from otel_taskmaster.quality.features import (
    REFUSAL_PHRASES,
    REFUSAL_WINDOW,
    _deflate,
    text_features,
)

FEATURE_KEYS = {
    sc.FEATURE_CHARS,
    sc.FEATURE_WORDS,
    sc.FEATURE_UNIQUE_WORD_RATIO,
    sc.FEATURE_NGRAM_REPETITION,
    sc.FEATURE_COMPRESSION_RATIO,
    sc.FEATURE_STRUCTURE_MARKERS,
    sc.FEATURE_REFUSAL,
}


def features_of(*pieces: str, max_chars: int = 32768) -> dict[str, int | float | bool]:
    features = ResponseFeatures(max_chars)
    for piece in pieces:
        features.add(piece)
    return features.attributes("stop")


def deflate_ratio(text: str) -> float:
    raw = text.encode()
    return min(1.0, len(zlib.compress(raw, 1, -15)) / len(raw))


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=200)
    | st.builds(
        lambda phrase, times: phrase * times, st.text(min_size=1, max_size=40), st.integers(1, 1200)
    )
)
def test_the_sized_window_deflates_exactly_as_the_32_kib_window(text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")

    assert _deflate(raw) == zlib.compress(raw, 1, -15)


def test_known_repetitive_sentence_has_exact_features() -> None:
    text = "The cat sat on the mat. The cat sat on the mat."

    attrs = features_of("The cat sat", " on the mat.", " The cat sat on the mat.")

    assert attrs == {
        sc.FEATURE_CHARS: 47,
        sc.FEATURE_WORDS: 12,
        # the, cat, sat, on, mat.
        sc.FEATURE_UNIQUE_WORD_RATIO: 5 / 12,
        # 10 trigrams, 6 distinct
        sc.FEATURE_NGRAM_REPETITION: 1 - 6 / 10,
        sc.FEATURE_COMPRESSION_RATIO: deflate_ratio(text),
        sc.FEATURE_STRUCTURE_MARKERS: 0,
        sc.FEATURE_REFUSAL: False,
    }


def test_markdown_answer_counts_each_structure_marker() -> None:
    text = "# Tea\nSteps:\n- boil **hot** water\n* steep\n| a | b |\n```\ncode\n```"
    # 7 newlines, 1 colon, 4 + 1 "*", 1 "#", 6 backticks, 3 pipes
    assert features_of(text)[sc.FEATURE_STRUCTURE_MARKERS] == 7 + 1 + 5 + 1 + 6 + 3


def test_hyphen_inside_words_is_not_structure() -> None:
    assert features_of("A well-known, state-of-the-art answer")[sc.FEATURE_STRUCTURE_MARKERS] == 0


def test_empty_answer_has_neutral_ratios() -> None:
    assert features_of() == {
        sc.FEATURE_CHARS: 0,
        sc.FEATURE_WORDS: 0,
        sc.FEATURE_UNIQUE_WORD_RATIO: 1.0,
        sc.FEATURE_NGRAM_REPETITION: 0.0,
        sc.FEATURE_COMPRESSION_RATIO: 1.0,
        sc.FEATURE_STRUCTURE_MARKERS: 0,
        sc.FEATURE_REFUSAL: False,
    }


def test_repetition_loop_compresses_far_better_than_prose() -> None:
    loop = "I will answer now. " * 40
    prose = (
        "Kettles boil water quickly because the heating element sits directly in the "
        "water, so nearly all of its energy goes into the liquid rather than the air. "
        "Steeping green tea at eighty degrees keeps bitterness down, while black tea "
        "tolerates a full boil. Three minutes suits most leaves; herbal blends take longer "
        "and rarely turn bitter, which makes them forgiving for beginners at home."
    )

    loop_attrs, prose_attrs = features_of(loop), features_of(prose)

    assert loop_attrs[sc.FEATURE_COMPRESSION_RATIO] < 0.1
    assert prose_attrs[sc.FEATURE_COMPRESSION_RATIO] > 0.5
    assert prose_attrs[sc.FEATURE_NGRAM_REPETITION] == 0.0
    # 4-word phrase x 40: 1 - 4 / (160 - 2)
    assert loop_attrs[sc.FEATURE_NGRAM_REPETITION] == 1 - 4 / 158


def test_refusal_at_the_start_is_detected_case_and_apostrophe_insensitive() -> None:
    typographic = "I\u2019M SORRY, BUT I CAN\u2019T help with that request."
    assert features_of(typographic)[sc.FEATURE_REFUSAL]
    assert features_of("  I am unable to share that.")[sc.FEATURE_REFUSAL]
    assert not features_of("Sure! Here is how you brew tea.")[sc.FEATURE_REFUSAL]


def test_refusal_phrase_deep_in_the_answer_is_not_a_refusal() -> None:
    text = "x" * REFUSAL_WINDOW + " I cannot help with plumbing, but here is tea advice."
    assert not features_of(text)[sc.FEATURE_REFUSAL]


def test_every_curated_refusal_phrase_is_detected() -> None:
    for phrase in REFUSAL_PHRASES:
        assert features_of(phrase.capitalize() + " that.")[sc.FEATURE_REFUSAL], phrase


def test_quality_features_use_only_max_chars_but_counts_cover_everything() -> None:
    head = "alpha beta gamma delta "  # 23 chars, distinct words
    tail = "loop " * 100

    attrs = features_of(head, tail, max_chars=23)

    assert attrs[sc.FEATURE_CHARS] == 23 + 500
    assert attrs[sc.FEATURE_WORDS] == 4 + 100
    # Repetition and compression describe only the first 23 characters.
    assert attrs[sc.FEATURE_NGRAM_REPETITION] == 0.0
    assert attrs[sc.FEATURE_UNIQUE_WORD_RATIO] == 1.0
    assert attrs[sc.FEATURE_COMPRESSION_RATIO] == deflate_ratio(head)


def test_pieces_past_the_cap_are_not_kept() -> None:
    features = ResponseFeatures(max_chars=10)
    for _ in range(10_000):
        features.add("word ")
    # Two 5-char pieces fill the cap; everything after is only counted.
    assert len(features._parts) == 2
    assert features.attributes(None)[sc.FEATURE_WORDS] == 10_000


def test_word_split_across_pieces_past_the_cap_counts_once() -> None:
    assert features_of("abc", "de", "f gh", "ij k", max_chars=2)[sc.FEATURE_WORDS] == 3


def test_attributes_carry_exactly_the_feature_keys_with_plain_types() -> None:
    attrs = features_of("Hello there: a short answer.")
    assert set(attrs) == FEATURE_KEYS
    for key, value in attrs.items():
        assert type(value) in (int, float, bool), key


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(st.text(max_size=60), max_size=30),
    max_chars=st.integers(min_value=0, max_value=120),
)
def test_features_never_raise_and_stay_in_range(pieces: list[str], max_chars: int) -> None:
    attrs = features_of(*pieces, max_chars=max_chars)

    text = "".join(pieces)
    assert set(attrs) == FEATURE_KEYS
    assert attrs[sc.FEATURE_CHARS] == len(text)
    assert attrs[sc.FEATURE_WORDS] == len(text.split())
    for key in (sc.FEATURE_UNIQUE_WORD_RATIO, sc.FEATURE_COMPRESSION_RATIO):
        assert 0.0 < attrs[key] <= 1.0
    assert 0.0 <= attrs[sc.FEATURE_NGRAM_REPETITION] < 1.0
    assert attrs[sc.FEATURE_STRUCTURE_MARKERS] >= 0


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab c\n:-*#"), max_size=200),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=12),
    max_chars=st.integers(min_value=0, max_value=250),
)
def test_features_do_not_depend_on_how_the_stream_is_chunked(
    text: str, cuts: list[int], max_chars: int
) -> None:
    edges = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    pieces = [text[a:b] for a, b in itertools.pairwise(edges)]

    assert features_of(*pieces, max_chars=max_chars) == features_of(text, max_chars=max_chars)
    assert features_of(*pieces, max_chars=max_chars) == {
        **text_features(text[:max_chars]),
        sc.FEATURE_CHARS: len(text),
        sc.FEATURE_WORDS: len(text.split()),
    }


@settings(max_examples=100, deadline=None)
@given(n_words=st.integers(min_value=3, max_value=3000))
def test_ngram_repetition_of_non_repeating_text_is_zero_at_any_length(n_words: int) -> None:
    text = " ".join(f"w{i}" for i in range(n_words))
    assert features_of(text)[sc.FEATURE_NGRAM_REPETITION] == 0.0


@settings(max_examples=100, deadline=None)
@given(phrase_words=st.integers(min_value=3, max_value=40), repeats=st.integers(2, 60))
def test_ngram_repetition_of_a_loop_follows_its_formula(phrase_words: int, repeats: int) -> None:
    phrase = " ".join(f"p{i}" for i in range(phrase_words))
    attrs = features_of(" ".join([phrase] * repeats))
    total = phrase_words * repeats - 2
    assert attrs[sc.FEATURE_NGRAM_REPETITION] == 1 - phrase_words / total
