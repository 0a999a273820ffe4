"""The models the simulator pretends to have pulled, with the metadata Ollama reports."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DEFAULT_MODELS: tuple[str, ...] = (
    "llama3.2",
    "llama3.1",
    "llama3",
    "gemma3:1b",
    "qwen2.5:0.5b",
    "nomic-embed-text",
    "all-minilm",
)

# family, parameter size, embedding width, bytes on disk (for the known names)
_KNOWN: dict[str, tuple[str, str, int, int]] = {
    "llama3.2": ("llama", "3.2B", 3072, 2019393189),
    "llama3.1": ("llama", "8.0B", 4096, 4920753328),
    "llama3": ("llama", "8.0B", 4096, 4661224676),
    "gemma3": ("gemma3", "4.3B", 2560, 3338801804),
    "gemma3:1b": ("gemma3", "999.89M", 1152, 815319791),
    "qwen2.5:0.5b": ("qwen2", "494.03M", 896, 397821319),
    "nomic-embed-text": ("nomic-bert", "137M", 768, 274302450),
    "all-minilm": ("bert", "23M", 384, 45960996),
}


def canonical(name: str) -> str:
    """``llama3.2`` and ``llama3.2:latest`` are the same model, as in Ollama."""
    name = name.strip()
    return name if ":" in name else f"{name}:latest"


@dataclass(frozen=True)
class ModelInfo:
    name: str  # canonical, with tag
    family: str
    parameter_size: str
    dimensions: int
    size: int
    digest: str
    ms_per_token: float  # eval speed of the pretend hardware: 20-40 ms per token

    def details(self) -> dict[str, object]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": "Q4_K_M" if self.family not in ("bert", "nomic-bert") else "F16",
        }


def model_info(name: str) -> ModelInfo:
    name = canonical(name)
    short = name.removesuffix(":latest")
    digest = hashlib.sha256(name.encode()).hexdigest()
    family, params, dims, size = (
        _KNOWN.get(short)
        or _KNOWN.get(name.split(":")[0])
        or (
            "llama",
            "3.2B",
            1024,
            2_000_000_000,
        )
    )
    return ModelInfo(
        name=name,
        family=family,
        parameter_size=params,
        dimensions=dims,
        size=size,
        digest=digest,
        ms_per_token=20.0 + int(digest[:4], 16) % 21,
    )
