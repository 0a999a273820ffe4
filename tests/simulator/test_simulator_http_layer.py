"""The standard-library HTTP layer: framing, keep-alive and malformed requests."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _raw(url: str, data: bytes) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def test_malformed_request_line_gets_400_and_server_stays_up(sim_url: str) -> None:
    reply = _raw(sim_url, b"NONSENSE\r\n\r\n")

    assert reply.startswith(b"HTTP/1.1 400")
    assert httpx.get(f"{sim_url}/api/version").status_code == 200


def test_header_line_without_colon_gets_400(sim_url: str) -> None:
    reply = _raw(sim_url, b"GET /api/version HTTP/1.1\r\nbroken header\r\n\r\n")

    assert reply.startswith(b"HTTP/1.1 400")


def test_chunked_request_body_is_read(sim_url: str) -> None:
    body = json.dumps({"model": "llama3.2", "prompt": "Explain DNS", "stream": False}).encode()
    half = len(body) // 2
    request = (
        b"POST /api/generate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n"
        + b"%x\r\n%s\r\n" % (half, body[:half])
        + b"%x\r\n%s\r\n" % (len(body) - half, body[half:])
        + b"0\r\n\r\n"
    )

    reply = _raw(sim_url, request)

    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(payload)["done_reason"] == "stop"


def test_head_and_root_answer_like_ollama(sim_url: str) -> None:
    root = httpx.get(sim_url)
    head = httpx.head(sim_url)

    assert (root.status_code, root.text) == (200, "Ollama is running")
    assert head.status_code == 200 and head.text == ""
    assert head.headers["content-length"] == str(len("Ollama is running"))


def test_two_pipelined_requests_on_one_connection_get_two_answers(sim_url: str) -> None:
    one = b"GET /api/version HTTP/1.1\r\nHost: x\r\n\r\n"
    last = b"GET /api/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    reply = _raw(sim_url, one + last)

    assert reply.count(b"HTTP/1.1 200 OK") == 2
    assert reply.count(b'{"version":') == 2


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_BODIES = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["llama3.2", "nope", ""]) | _JSON,
        "messages": _JSON,
        "prompt": _JSON,
        "input": _JSON,
        "stream": _JSON,
        "options": _JSON,
        "tools": _JSON,
        "format": _JSON,
        "keep_alive": _JSON,
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        ["/api/chat", "/api/generate", "/api/embed", "/api/embeddings", "/v1/chat/completions"]
    ),
    body=_BODIES,
)
def test_arbitrary_json_bodies_never_break_the_server(
    sim_url: str, path: str, body: dict[str, object]
) -> None:
    response = httpx.post(f"{sim_url}{path}", json=body, timeout=10)

    assert response.status_code in (200, 400, 404), response.text
    assert "internal error" not in response.text
