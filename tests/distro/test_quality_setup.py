"""The configurator's quality processor: bad tuning files are reported, defaults used."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from otel_taskmaster.config import Settings
from otel_taskmaster.distro.quality_setup import build_quality_processor
from otel_taskmaster.quality import QualitySpanProcessor


def test_bad_baseline_and_config_files_fall_back_to_defaults_with_a_clear_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"metrics": [{"metric": "overall_quality", "kind": "gaussian"}]}')
    config = tmp_path / "quality.toml"
    config.write_text("[weights]\nlength_score = 'heavy'\n")
    settings = Settings.from_env(
        {"TASKMASTER_DRIFT_BASELINE": str(baseline), "TASKMASTER_QUALITY_CONFIG": str(config)}
    )
    with caplog.at_level(logging.ERROR, logger="otel_taskmaster.distro.quality_setup"):
        processor = build_quality_processor(settings)
    assert isinstance(processor, QualitySpanProcessor)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert str(config) in messages[0] and "default quality config" in messages[0]
    assert str(baseline) in messages[1] and "default drift baseline" in messages[1]


def test_missing_baseline_file_is_reported_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.from_env({"TASKMASTER_DRIFT_BASELINE": str(tmp_path / "nope.json")})
    with caplog.at_level(logging.ERROR, logger="otel_taskmaster.distro.quality_setup"):
        build_quality_processor(settings)
    (record,) = caplog.records
    assert "nope.json" in record.getMessage()
