from __future__ import annotations

import json
import math
import random

import pytest

from otel_taskmaster.drift import Baseline, BaselineEntry, BaselineError, fit


def test_default_baseline_has_the_seed_means_and_self_starting_checks():
    baseline = Baseline.default()
    means = {e.metric: e.mean for e in baseline if e.kind == "gaussian"}
    assert means == {
        "latency_score": 0.85,
        "length_score": 0.90,
        "format_score": 0.88,
        "coherence_score": 0.95,
        "overall_quality": 0.89,
    }
    kinds = {e.metric: e.kind for e in baseline if e.kind != "gaussian"}
    assert kinds == {
        "latency_seconds": "lognormal",
        "refusal": "bernoulli",
        "truncated": "bernoulli",
        "empty": "bernoulli",
    }
    assert all(entry.self_starting for entry in baseline)


def test_fit_estimates_each_kind():
    rng = random.Random(12345)
    observations = []
    for _ in range(5000):
        observations.append(("overall_quality", "a", rng.gauss(0.8, 0.1)))
        observations.append(("latency_seconds", "a", rng.lognormvariate(math.log(2.0), 0.5)))
        observations.append(("refusal", "a", 1.0 if rng.random() < 0.05 else 0.0))
    baseline = fit(observations)
    score = baseline.entry("overall_quality")
    latency = baseline.entry("latency_seconds")
    refusal = baseline.entry("refusal")
    assert score is not None and latency is not None and refusal is not None
    assert (score.kind, score.n) == ("gaussian", 5000)
    assert score.mean == pytest.approx(0.8, abs=0.005)
    assert score.std == pytest.approx(0.1, rel=0.03)
    assert latency.kind == "lognormal"
    assert latency.mean == pytest.approx(math.log(2.0), abs=0.02)
    assert latency.std == pytest.approx(0.5, rel=0.03)
    assert latency.tail_rate == pytest.approx(0.01, abs=0.004)
    assert refusal.kind == "bernoulli"
    assert refusal.rate == pytest.approx(0.05, abs=0.01)
    assert not any(entry.self_starting for entry in baseline)


def test_fit_per_model_keeps_models_with_enough_data_and_falls_back_to_pooled():
    observations = [("q", "big", 0.5 + 0.01 * (i % 7)) for i in range(100)]
    observations += [("q", "small", 0.9)] * 5
    baseline = fit(observations, per_model=True, min_n=30)
    assert {entry.model for entry in baseline} == {"*", "big"}
    assert baseline.entry("q", "big").n == 100
    assert baseline.entry("q", "small").model == "*"
    assert baseline.entry("missing", "big") is None


def test_fit_kind_override_and_bad_kind():
    baseline = fit([("tokens", "m", 10.0), ("tokens", "m", 20.0)], kinds={"tokens": "lognormal"})
    assert baseline.entry("tokens").kind == "lognormal"
    with pytest.raises(BaselineError, match="kinds\\['tokens'\\]"):
        fit([("tokens", "m", 1.0)], kinds={"tokens": "poisson"})


def test_save_load_round_trip(tmp_path):
    baseline = Baseline(
        [
            BaselineEntry("overall_quality", "gaussian", mean=0.89, std=0.05, n=5000),
            BaselineEntry("latency_seconds", "lognormal", "llama3.2", 0.18, 0.6, None, 0.011, 10),
            BaselineEntry("refusal", "bernoulli", rate=0.05, n=5000),
            BaselineEntry("format_score", mean=0.88),
        ]
    )
    path = tmp_path / "baseline.json"
    baseline.save(path)
    assert Baseline.load(path) == baseline
    saved = json.loads(path.read_text())
    assert saved["version"] == 1
    assert saved["entries"][3] == {"metric": "format_score", "kind": "gaussian", "model": "*",
                                   "mean": 0.88, "n": 0}  # fmt: skip


def test_seed_style_mapping_accepts_means_and_mean_with_std():
    baseline = Baseline.from_seed({"a": 0.9, "b": {"mean": 0.8, "std": 0.1}})
    assert baseline.entry("a") == BaselineEntry("a", mean=0.9)
    assert baseline.entry("b") == BaselineEntry("b", mean=0.8, std=0.1)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "top level must be a JSON object"),
        ('{"version": 2, "entries": []}', "version: unsupported 2"),
        ('{"entries": {}}', "entries: must be a list"),
        ('{"entries": [5]}', "entries[0]: must be a JSON object"),
        ('{"entries": [{"kind": "gaussian"}]}', "entries[0].metric: must be a non-empty string"),
        ('{"entries": [{"metric": "q", "kind": "poisson"}]}', "entries[0].kind: must be one of"),
        ('{"entries": [{"metric": "q", "std": -1}]}', "entries[0].std: must be >= 0"),
        ('{"entries": [{"metric": "q", "mean": "high"}]}', "entries[0].mean: must be a finite"),
        ('{"entries": [{"metric": "q", "mean": NaN}]}', "entries[0].mean: must be a finite"),
        ('{"entries": [{"metric": "r", "kind": "bernoulli", "rate": 1.5}]}', "entries[0].rate"),
        ('{"entries": [{"metric": "r", "kind": "bernoulli", "mean": 0.1}]}', "entries[0].rate"),
        ('{"entries": [{"metric": "q", "rate": 0.1}]}', "entries[0].rate: only a bernoulli"),
        ('{"entries": [{"metric": "q", "n": -3}]}', "entries[0].n: must be a non-negative"),
        ('{"entries": [{"metric": "q", "sdt": 1}]}', "entries[0].sdt: unknown field"),
    ],
)
def test_bad_file_raises_an_error_naming_file_and_field(tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(BaselineError) as info:
        Baseline.load(path)
    assert str(info.value).startswith(f"{path}: ")
    assert expected in str(info.value)


def test_missing_file_raises_baseline_error(tmp_path):
    with pytest.raises(BaselineError, match="cannot read baseline file"):
        Baseline.load(tmp_path / "nope.json")
