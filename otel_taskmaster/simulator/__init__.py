"""An Ollama-API-compatible server for demos, tests and benchmarks, standard library only.

``make_server(...)`` builds either the simulator (deterministic answers, realistic token
counts and durations, switchable faults) or a replay server for recorded VCR cassettes;
``otel-taskmaster simulate`` runs it from the command line. Nothing here imports
OpenTelemetry: the simulator must never instrument itself.
"""

from __future__ import annotations

from otel_taskmaster.simulator.faults import FAULT_NAMES, FaultBox, FaultError, Faults
from otel_taskmaster.simulator.replay import Recording, Replayer, load_recordings
from otel_taskmaster.simulator.server import SimulatorServer, make_server
from otel_taskmaster.simulator.simulated import OLLAMA_VERSION, Simulator

__all__ = [
    "FAULT_NAMES",
    "OLLAMA_VERSION",
    "FaultBox",
    "FaultError",
    "Faults",
    "Recording",
    "Replayer",
    "Simulator",
    "SimulatorServer",
    "load_recordings",
    "make_server",
]
