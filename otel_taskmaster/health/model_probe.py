"""``taskmaster_model_loaded`` from a live probe of Ollama, never from a value set by hand.

A daemon thread asks Ollama's ``/api/tags`` (models it can serve) and ``/api/ps`` (models in
memory) every ``interval`` seconds; the metric callback only reads the cached answer, so a
scrape never waits on Ollama. The probe's own HTTP calls are not traced.

One ``httpx.Client`` serves every probe: building one loads the TLS trust store, which on a
small machine costs more CPU (about 0.1 s) than a minute of probing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import httpx
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otel_taskmaster import semconv as sc

_logger = logging.getLogger(__name__)

# The model counts as up when Ollama answers and lists it; 0 when Ollama is unreachable or
# does not have it. A model Ollama unloaded after keep_alive is still servable: it stays 1.
UP, DOWN = 1, 0


def _same_model(wanted: str, name: str) -> bool:
    # "llama3.2" asks for "llama3.2:latest".
    return name == wanted or (":" not in wanted and name == f"{wanted}:latest")


class ModelProbe:
    """Background probe of one Ollama server for one model."""

    def __init__(self, base_url: str, model: str, interval: float, timeout: float = 2.0) -> None:
        self.base_url = base_url
        self.model = model
        self.interval = interval
        self.timeout = timeout
        self._value: int | None = None  # None until the first probe finished
        self._loaded_in_memory = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()

    def register(self, meter: Meter) -> None:
        meter.create_observable_gauge(
            sc.TASKMASTER_MODEL_LOADED,
            callbacks=[self._observe],
            description="1 when Ollama answers and serves the model, else 0 (live probe)",
        )

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="otel-taskmaster-model-probe", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _http(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                self._client = httpx.Client(base_url=self.base_url, timeout=self.timeout)
            return self._client

    def probe_once(self) -> int:
        """Asks Ollama now; returns and caches 1 or 0. Never raises."""
        try:
            client = self._http()
            with suppress_instrumentation():
                tags = client.get("/api/tags")
                tags.raise_for_status()
                names = [m.get("name", "") for m in tags.json().get("models", [])]
                ps = client.get("/api/ps")
                loaded = ps.json().get("models", []) if ps.status_code == 200 else []
                self._loaded_in_memory = any(
                    _same_model(self.model, m.get("name", "")) for m in loaded
                )
            available = any(_same_model(self.model, name) for name in names)
            value = UP if available or self._loaded_in_memory else DOWN
        except Exception as exc:
            _logger.debug("Ollama probe of %s failed: %s", self.base_url, exc)
            value = DOWN
        self._value = value
        return value

    def _run(self) -> None:
        while not self._stop.is_set():
            self.probe_once()
            self._stop.wait(self.interval)

    def _observe(self, options: CallbackOptions) -> Iterable[Observation]:
        if self._value is None:
            return []
        return [Observation(self._value, {sc.LABEL_MODEL: self.model})]
