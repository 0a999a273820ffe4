"""QualityConfig: the shipped TOML equals the defaults, overrides merge, bad files fail clearly."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from otel_taskmaster.quality import QualityConfig, QualityConfigError, QualityScorer
from otel_taskmaster.quality.settings import DEFAULT_CONFIG_PATH, load_quality_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "quality.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_default_file_equals_the_built_in_defaults() -> None:
    assert QualityConfig.from_toml(DEFAULT_CONFIG_PATH) == QualityConfig()


def test_shipped_default_file_spells_out_every_key() -> None:
    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    expected: dict[str, object] = {}
    for field in dataclasses.fields(QualityConfig):
        value = getattr(QualityConfig(), field.name)
        expected[field.name] = (
            {f.name for f in dataclasses.fields(value)} if dataclasses.is_dataclass(value) else None
        )
    assert set(data) == set(expected)
    for name, keys in expected.items():
        if keys is not None:
            assert set(data[name]) == keys, name


def test_defaults_are_the_seed_values() -> None:
    config = QualityConfig()
    assert (config.length.good_min, config.length.good_max) == (50, 500)
    assert (config.length.ok_min, config.length.ok_max) == (20, 1000)
    assert config.latency.limits == (0.5, 1.0, 2.0)
    assert config.latency.scores == (1.0, 0.8, 0.6)
    assert config.latency.slow == 0.3
    assert (config.format.structured, config.format.plain) == (1.0, 0.5)
    assert config.coherence.repetition_slope == 1.5
    assert config.pass_threshold == 0.7


def test_missing_keys_keep_defaults_and_given_keys_override(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pass_threshold = 0.8\n[latency]\nlimits = [2, 5, 10]\n[penalties]\nrefusal = 0.9\n",
    )

    config = load_quality_config(path)

    assert config == dataclasses.replace(
        QualityConfig(),
        pass_threshold=0.8,
        latency=dataclasses.replace(QualityConfig().latency, limits=(2.0, 5.0, 10.0)),
        penalties=dataclasses.replace(QualityConfig().penalties, refusal=0.9),
    )
    assert QualityScorer(config).score_features({}, 4.0, None).dimensions["latency_score"] == 0.8


def test_load_without_a_path_gives_the_defaults() -> None:
    assert load_quality_config(None) == QualityConfig()
    assert load_quality_config("") == QualityConfig()
    assert QualityConfig.load(DEFAULT_CONFIG_PATH) == QualityConfig()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[length]\ngood_mni = 40\n", "unknown key [length] good_mni"),
        ("colour = 1\n", "unknown key 'colour'"),
        ('[latency]\nslow = "fast"\n', "[latency] slow must be a finite number"),
        ("[format]\nplain = true\n", "[format] plain must be a finite number"),
        ("[latency]\nlimits = 0.5\n", "[latency] limits must be a list of numbers"),
        ("[latency]\nlimits = [0.5, 1.0]\n", "[latency] scores must have one entry per limit"),
        ("[latency]\nlimits = [2.0, 1.0, 0.5]\n", "[latency] limits must be ascending"),
        ("[length]\ngood = 1.5\n", "[length] good must be within [0, 1]"),
        ("[length]\ngood_min = 2000\n", "[length] needs ok_min <= good_min"),
        ("weights = 3\n", "[weights] must be a table"),
        ("ewma_alpha = 0\n", "ewma_alpha must be within (0, 1]"),
        ("[penalties]\nempty = -1\n", "[penalties] empty must not be negative"),
        ("[length\n", "not valid TOML"),
    ],
)
def test_bad_file_raises_an_error_naming_the_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(QualityConfigError) as excinfo:
        QualityConfig.from_toml(path)

    assert str(excinfo.value).startswith(f"{path}: ")
    assert message in str(excinfo.value)


def test_missing_file_raises_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(QualityConfigError, match=r"absent\.toml: cannot read"):
        QualityConfig.from_toml(path)


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        QualityConfig().pass_threshold = 0.1  # type: ignore[misc]
