"""``otel-taskmaster simulate`` as a real subprocess."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import ollama
import pytest

from tests.support.ollama_server import RECORDINGS_DIR, get_faults, running_simulator_process

CLI = str(Path(sys.executable).with_name("otel-taskmaster"))
MESSAGES = [{"role": "user", "content": "What does a span processor do?"}]


def test_cli_serves_chat_and_stops_cleanly_on_sigterm() -> None:
    with running_simulator_process("--fast") as (url, process):
        answer = ollama.Client(host=url).chat(model="llama3.2", messages=MESSAGES)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert process.stdout is not None
        banner = process.stdout.read()

    assert answer.done_reason == "stop" and answer.message.content
    assert f"simulating Ollama on {url}" in banner


def test_cli_fault_flags_are_live_and_visible_on_the_control_endpoint() -> None:
    with running_simulator_process(
        "--fast", "--fault", "refusal", "--fault", "slow_chunk=0.001"
    ) as (url, _):
        answer = ollama.Client(host=url).chat(model="llama3.2", messages=MESSAGES)
        faults = get_faults(url)

    assert answer.message.content.startswith(("I'm sorry", "I can't"))
    assert faults["refusal"] == 1.0 and faults["slow_chunk"] == 0.001


def test_cli_models_flag_limits_the_catalog() -> None:
    with running_simulator_process("--fast", "--model", "tinyllama") as (url, _):
        client = ollama.Client(host=url)
        names = [m.model for m in client.list().models]
        with pytest.raises(ollama.ResponseError):
            client.chat(model="llama3.2", messages=MESSAGES)

    assert names == ["tinyllama:latest"]


def test_cli_replays_cassettes() -> None:
    with running_simulator_process("--replay", str(RECORDINGS_DIR)) as (url, _):
        parts = list(
            ollama.Client(host=url).generate(
                model="gemma3:1b", prompt="Tell me a joke about OpenTelemetry", stream=True
            )
        )

    assert parts[-1].done is True and parts[-1].eval_count == 51


def test_cli_rejects_unknown_fault_with_usage_error() -> None:
    result = subprocess.run(
        [CLI, "simulate", "--port", "0", "--fault", "explode"],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert "unknown fault 'explode'" in result.stderr
