"""Parsing and dice of :mod:`otel_taskmaster.simulator.faults`."""

from __future__ import annotations

import pytest

from otel_taskmaster.simulator.faults import FaultBox, FaultError, Faults
from otel_taskmaster.simulator.parsing import keep_alive_seconds


def test_parse_uses_defaults_for_bare_names_and_values_when_given() -> None:
    faults = Faults.parse(["slow", "errors=0.1", "unloaded=llama3.2,gemma3:1b", "chunks=16"])

    assert faults.active() == {
        "slow": 1.0,
        "errors": 0.1,
        "unloaded": "llama3.2,gemma3:1b",
        "chunks": 16,
    }
    assert faults.is_unloaded("llama3.2:latest") and faults.is_unloaded("gemma3:1b")
    assert not faults.is_unloaded("llama3")


@pytest.mark.parametrize(
    "item", ["explode", "errors=1.5", "errors=-0.1", "slow=abc", "chunks=1.5", "slow=-1"]
)
def test_bad_fault_items_raise(item: str) -> None:
    with pytest.raises(FaultError):
        Faults.parse([item])


def test_update_false_switches_off() -> None:
    faults = Faults.parse(["refusal", "unloaded"]).updated({"refusal": False, "unloaded": False})

    assert faults.active() == {}


def test_rolls_follow_the_seed_and_skip_the_dice_at_zero_and_one() -> None:
    def rolls(seed: int) -> list[bool]:
        box = FaultBox(seed=seed)
        return [box.roll(0.5) for _ in range(200)]

    assert rolls(1) == rolls(1) != rolls(2)
    assert 60 < sum(rolls(1)) < 140
    box = FaultBox(seed=1)
    assert [box.roll(0.0), box.roll(1.0)] == [False, True]
    assert [box.roll(0.5) for _ in range(200)] == rolls(1)  # 0 and 1 drew nothing


def test_fault_box_update_and_clear() -> None:
    box = FaultBox(Faults(errors=0.5))

    assert box.update({"slow": 2}).active() == {"errors": 0.5, "slow": 2.0}
    assert box.clear() == Faults()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, 300.0), ("5m", 300.0), ("1h", 3600.0), ("250ms", 0.25), (0, 0.0), ("0", 0.0),
     (-1, 10 * 365 * 86400.0), (1e300, 10 * 365 * 86400.0), ("soon", 300.0), (True, 300.0)],
)  # fmt: skip
def test_keep_alive_parses_go_durations_and_clamps(value: object, seconds: float) -> None:
    assert keep_alive_seconds(value) == seconds
