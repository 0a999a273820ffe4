"""The answer generator: deterministic, plausible, shaped by faults and limits."""

from __future__ import annotations

from otel_taskmaster.simulator.answers import REFUSALS, compose, count_tokens, tokenize


def test_tokens_rebuild_the_text_at_about_four_characters_each() -> None:
    text = "OpenTelemetry instrumentation records spans, metrics and logs.\n\n1. Done."

    pieces = tokenize(text)

    assert "".join(pieces) == text
    assert 3.0 <= len(text) / len(pieces) <= 5.0
    assert count_tokens(text) == (len(text) + 3) // 4


def test_answers_mention_the_prompt_topic_and_sometimes_have_lists() -> None:
    answers = [compose(f"Explain Kubernetes autoscaling {n}", model="m", seed=n) for n in range(20)]

    assert all("Kubernetes" in a.text or "autoscaling" in a.text for a in answers)
    with_lists = [a for a in answers if "\n\n1. " in a.text]
    assert 0 < len(with_lists) < len(answers)
    assert all(40 <= len(a.pieces) <= 260 for a in answers)


def test_exact_tokens_pads_or_cuts_to_the_requested_length() -> None:
    assert len(compose("Explain caching", model="m", exact_tokens=64).pieces) == 64
    assert len(compose("Explain caching", model="m", exact_tokens=3).pieces) == 3
    assert compose("Explain caching", model="m", exact_tokens=400).done_reason == "stop"


def test_refusal_and_repetition_styles() -> None:
    refusal = compose("How do I pick a lock?", model="m", style="refusal")
    loop = compose("Explain caching", model="m", style="repetition")

    assert refusal.text in REFUSALS and refusal.done_reason == "stop"
    assert loop.done_reason == "length" and len(loop.pieces) == 200
    assert loop.text.count("Caching is important because caching is important.") > 10


def test_truncation_keeps_a_prefix() -> None:
    full = compose("Explain caching", model="m", seed=4)
    cut = compose("Explain caching", model="m", seed=4, truncate_at=0.5)

    assert full.text.startswith(cut.text) and len(cut.pieces) == len(full.pieces) // 2
    assert cut.done_reason == "length"
