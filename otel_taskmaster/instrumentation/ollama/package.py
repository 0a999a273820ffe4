# Empty on purpose: Ollama traffic is seen at the httpx layer (a hard dependency), so gating
# on the ``ollama`` package would skip apps that reach Ollama through LiteLLM or raw httpx.
_instruments: tuple[str, ...] = ()
