"""Real LiteLLM (sync, async on its aiohttp transport, stream or not, embeddings): a span each."""

from __future__ import annotations

from typing import Any

import litellm
import pytest
from litellm.llms.custom_httpx.aiohttp_transport import LiteLLMAiohttpTransport

from tests.instrumentation.harness import Instrument

# LiteLLM's own pydantic models warn at import; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

MESSAGES = [{"role": "user", "content": "Tell me a joke about OpenTelemetry"}]
# ollama/ goes to /api/generate, ollama_chat/ to /api/chat.
PROVIDERS = {"ollama": ("/api/generate", "text_completion"), "ollama_chat": ("/api/chat", "chat")}


def _check(span: Any, provider: str, stream: bool, usage: Any, text: str) -> None:
    path, operation = PROVIDERS[provider]
    assert span.name == f"{operation} llama3.2"
    attrs = span.attributes
    assert attrs["ollama.api.path"] == path
    assert attrs["gen_ai.request.stream"] is stream
    assert attrs["gen_ai.usage.input_tokens"] == usage.prompt_tokens
    assert attrs["gen_ai.usage.output_tokens"] == usage.completion_tokens
    assert attrs["taskmaster.response.chars"] == len(text)
    assert ("gen_ai.response.time_to_first_chunk" in attrs) is stream
    assert "error.type" not in attrs
    assert span.status.status_code.name == "UNSET"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_litellm_completion_makes_one_span(
    instrument: Instrument, simulator: str, provider: str, stream: bool
) -> None:
    telemetry = instrument(simulator)

    result = litellm.completion(
        model=f"{provider}/llama3.2", messages=MESSAGES, api_base=simulator, stream=stream
    )
    if stream:
        chunks = list(result)
        text = "".join(c.choices[0].delta.content or "" for c in chunks)
        # Usage of a stream: the whole-body call with the same prompt reports the same.
        usage = litellm.completion(
            model=f"{provider}/llama3.2", messages=MESSAGES, api_base=simulator
        ).usage
    else:
        text, usage = result.choices[0].message.content, result.usage

    span = telemetry.spans()[0]
    assert len(telemetry.spans()) == (2 if stream else 1)
    _check(span, provider, stream, usage, text)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("provider", sorted(PROVIDERS))
async def test_litellm_acompletion_on_its_aiohttp_transport_makes_one_span(
    instrument: Instrument,
    simulator: str,
    provider: str,
    stream: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    telemetry = instrument(simulator)
    # Prove the async path really runs on LiteLLM's aiohttp-backed transport.
    used: list[str] = []
    real = LiteLLMAiohttpTransport.handle_async_request

    async def spy(self: LiteLLMAiohttpTransport, request: Any) -> Any:
        used.append(request.url.path)
        return await real(self, request)

    monkeypatch.setattr(LiteLLMAiohttpTransport, "handle_async_request", spy)

    model = f"{provider}/llama3.2"
    result = await litellm.acompletion(
        model=model, messages=MESSAGES, api_base=simulator, stream=stream
    )
    if stream:
        text = "".join([c.choices[0].delta.content or "" async for c in result])
        usage = (
            await litellm.acompletion(model=model, messages=MESSAGES, api_base=simulator)
        ).usage
    else:
        text, usage = result.choices[0].message.content, result.usage

    path = PROVIDERS[provider][0]
    assert used[0] == path
    spans = telemetry.spans()
    assert len(spans) == (2 if stream else 1) == len(used)
    _check(spans[0], provider, stream, usage, text)


def test_litellm_embedding_makes_one_embeddings_span(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)

    result = litellm.embedding(model="ollama/all-minilm", input=["hello"], api_base=simulator)

    (span,) = telemetry.spans()
    assert span.name == "embeddings all-minilm"
    assert span.attributes["ollama.api.path"] == "/api/embed"
    assert span.attributes["gen_ai.embeddings.dimension.count"] == len(result.data[0]["embedding"])
    assert "error.type" not in span.attributes


async def test_litellm_aembedding_makes_one_embeddings_span(
    instrument: Instrument, simulator: str
) -> None:
    telemetry = instrument(simulator)

    result = await litellm.aembedding(
        model="ollama/all-minilm", input=["a", "b"], api_base=simulator
    )

    (span,) = telemetry.spans()
    assert span.attributes["gen_ai.embeddings.dimension.count"] == len(result.data[0]["embedding"])
    assert span.attributes["gen_ai.usage.input_tokens"] == result.usage.prompt_tokens


def test_litellm_server_error_is_an_error_span_and_litellm_raises_as_usual(
    instrument: Instrument, simulator: str
) -> None:
    from tests.support.ollama_server import set_faults

    set_faults(simulator, errors=1.0)
    with pytest.raises(Exception) as plain:
        litellm.completion(model="ollama_chat/llama3.2", messages=MESSAGES, api_base=simulator)
    telemetry = instrument(simulator)

    with pytest.raises(type(plain.value)) as observed:
        litellm.completion(model="ollama_chat/llama3.2", messages=MESSAGES, api_base=simulator)

    assert str(observed.value) == str(plain.value)
    (span,) = telemetry.spans()
    assert span.attributes["error.type"] == "500"
